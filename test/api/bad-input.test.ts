import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import { type Json, makeContact, makeSingle, makeWebsite, ok, problem } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

/** Every table an API call could change: their row counts before and after must match. */
const TABLES = [
  'websites',
  'web_roles',
  'accounts',
  'contacts',
  'contact_web_roles',
  'invitations',
  'invitation_invited_contacts',
  'invitation_web_roles',
  'audit_events',
  'jobs',
] as const;

onBothDatabases('bad input', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  async function counts() {
    const out: Record<string, number> = {};
    for (const t of TABLES) {
      const r = await h.deps.db
        .selectFrom(t)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      out[t] = Number(r.n);
    }
    return out;
  }

  /** Sends each body and expects a 4xx problem+json and no change anywhere. */
  async function refused(method: 'POST' | 'PATCH', url: string, bodies: unknown[], raw = false) {
    const before = await counts();
    for (const body of bodies) {
      const res = raw
        ? await h.api(method, url, body as string, { 'content-type': 'application/json' })
        : await h.api(method, url, body);
      assert.ok(
        res.statusCode >= 400 && res.statusCode < 500,
        `${method} ${url} ${JSON.stringify(body)?.slice(0, 120)} → ${res.statusCode} ${res.body}`,
      );
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const p = res.json() as Json;
      assert.match(p.code, /^[A-Z_]+$/);
      assert.ok(p.detail.length > 0);
    }
    assert.deepEqual(await counts(), before, `${method} ${url} changed nothing`);
  }

  it('websites: wrong types, unknown fields, arrays for strings, CR/LF in names', async () => {
    await refused('POST', '/api/v1/websites', [
      { name: 42, slug: 'a' },
      { name: ['a'], slug: 'a' },
      { name: 'A', slug: 'a', admin: true },
      { name: 'Evil\r\nBcc: x@y.test', slug: 'a' },
      { name: 'A', slug: 'a', settings: { registrationEnabled: 'yes' } },
      { name: 'A', slug: 'a', settings: { defaultInvitationLifetimeDays: '14' } },
      { name: '', slug: 'a' },
      { name: 'x'.repeat(201), slug: 'a' },
      null,
      [],
      'just a string',
    ]);
  });

  it('contacts: bad emails, header injection, wrong types', async () => {
    await refused('POST', '/api/v1/contacts', [
      { firstName: 'A', lastName: 'B', email: 'not-an-email' },
      { firstName: 'A', lastName: 'B', email: 'a@b.test\r\nBcc: victim@x.test' },
      { firstName: 'A\nB', lastName: 'B' },
      { firstName: 'A', lastName: 'B', loginEnabled: 'true' },
      { firstName: 'A', lastName: 'B', webRoleIds: 'not-an-array' },
      { firstName: 'A', lastName: 'B', webRoleIds: ['not-a-uuid'] },
      { firstName: 'A', lastName: 'B', passwordHash: 'x' },
      { firstName: 'A', lastName: 'B', username: 'has space' },
      { firstName: 'A', lastName: 'B', email: `${'a'.repeat(250)}@b.test` },
    ]);
  });

  it('invitations: wrong types, unknown fields, huge arrays, bad instants', async () => {
    const website = await makeWebsite(h);
    const c = await makeContact(h);
    const base = { type: 'single', websiteId: website.id, invitedContactIds: [c.id] };
    await refused('POST', '/api/v1/invitations', [
      { ...base, type: 'triple' },
      { ...base, websiteId: 7 },
      { ...base, invitedContactIds: c.id },
      { ...base, invitedContactIds: [[c.id]] },
      { ...base, code: 'MY-OWN-CODE' },
      { ...base, redemptionCount: 0 },
      { ...base, expiresAt: 'tomorrow' },
      { ...base, expiresAt: 1893456000000 },
      { ...base, maxRedemptions: '1' },
      { ...base, maxRedemptions: 1.5 },
      { ...base, name: 'Line\r\nbreak' },
      { ...base, invitedContactIds: Array.from({ length: 1001 }, () => c.id) },
      { type: 'group', websiteId: website.id, maxRedemptions: -1 },
    ]);
  });

  it('malformed JSON, empty bodies, wrong content types, 1 MB bodies', async () => {
    await refused('POST', '/api/v1/websites', ['{"name": "A", "slug":', '{', 'nul'], true);
    const before = await counts();
    problem(
      await h.api('POST', '/api/v1/websites', '', { 'content-type': 'application/json' }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', '/api/v1/websites', 'name=A&slug=b', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const huge = JSON.stringify({ name: 'A', slug: 'huge', pad: 'x'.repeat(1024 * 1024) });
    problem(
      await h.api('POST', '/api/v1/websites', huge, { 'content-type': 'application/json' }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const hugeCsv = `firstName,lastName\n${'A,B\n'.repeat(9_000_000)}`;
    problem(
      await h.api('POST', '/api/v1/contacts/import', hugeCsv, { 'content-type': 'text/csv' }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    assert.deepEqual(await counts(), before);
  });

  it('path and query parameters: bad ids, limits and filters are 4xx, never 500', async () => {
    const urls = [
      '/api/v1/invitations/not-a-uuid',
      '/api/v1/contacts/%00',
      '/api/v1/invitations?limit=0',
      '/api/v1/invitations?limit=abc',
      '/api/v1/invitations?status=expired&status=new',
      '/api/v1/invitations?websiteId=nope',
      '/api/v1/audit-events?entityId=1',
      `/api/v1/contacts?search=${'x'.repeat(300)}`,
      '/api/v1/contacts?cursor=%FF%FE',
    ];
    for (const url of urls) {
      const res = await h.api('GET', url);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} → ${res.statusCode} ${res.body}`);
    }
  });

  it('malformed and overlong codes at redemption: the uniform error, nothing changed', async () => {
    const { website, contact } = await makeSingle(h);
    ok(await h.api('PATCH', `/api/v1/contacts/${contact.id}`, { loginEnabled: true }));
    const before = await counts();
    for (const code of [
      '',
      ' ',
      '----',
      'DROP TABLE invitations;',
      '\r\n',
      'Ａ'.repeat(28),
      'A'.repeat(100_000),
      '%00'.repeat(10),
    ]) {
      await assert.rejects(
        redeemInvitation(h.deps, {
          websiteId: website.id,
          code,
          redeemer: { kind: 'contact', contactId: contact.id, method: 'signin' },
          ipAddress: null,
          userAgent: null,
        }),
        { code: 'INVITATION_NOT_REDEEMABLE' },
      );
    }
    assert.deepEqual(await counts(), before);
  });

  it('no 500 was logged by any of the above', () => {
    assert.ok(!h.logs().includes('"statusCode":500'), 'a request ended in 500');
  });
});
