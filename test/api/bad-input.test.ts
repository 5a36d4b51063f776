import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
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

  it('text neither database can store (NUL, lone surrogates) is a 400 naming the field, on both', async () => {
    const website = await makeWebsite(h);
    const bad = ['a\u0000b', 'a\ud800b', '\udc00', 'x\ud83d'];
    // JSON text with the escapes as sent by a client (JSON.stringify keeps lone surrogates escaped).
    const raw = (obj: Json) => JSON.stringify(obj);
    for (const v of bad) {
      await refused('POST', '/api/v1/websites', [raw({ name: v, slug: `s-${Date.now()}` })], true);
      await refused('PATCH', `/api/v1/websites/${website.id}`, [raw({ name: v })], true);
      await refused('POST', '/api/v1/accounts', [raw({ name: v })], true);
      await refused('POST', '/api/v1/users', [raw({ email: 'u@example.test', name: v })], true);
      await refused('POST', '/api/v1/api-keys', [raw({ name: v })], true);
      await refused('POST', '/api/v1/contacts', [raw({ firstName: v, lastName: 'L' })], true);
      await refused('POST', '/api/v1/accounts', [`{"${v.replace('\u0000', '\\u0000')}": 1}`], true);
    }
    const p = problem(
      await h.api('POST', '/api/v1/accounts', '{"name":"a\\ud800b"}', { 'content-type': 'application/json' }),
      400,
      'VALIDATION_FAILED',
    );
    assert.deepEqual(p.errors, [
      { path: '/name', message: 'contains a lone UTF-16 surrogate (not valid Unicode text)' },
    ]);
    for (const url of [
      '/api/v1/contacts?search=%00',
      '/api/v1/audit-events?entityType=%00',
      '/api/v1/invitations?search=a%00',
      `/api/v1/websites/${website.id}%00`,
    ]) {
      const res = await h.api('GET', url);
      assert.equal(res.statusCode, 400, `${url} → ${res.statusCode} ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
    const named = problem(await h.api('GET', '/api/v1/contacts?search=%00'), 400, 'VALIDATION_FAILED');
    assert.equal(named.errors?.[0]?.path, '/query/search');
    // Good Unicode is still welcome: a surrogate pair (an emoji) and accents.
    const fine = ok<Json>(await h.api('POST', '/api/v1/accounts', { name: 'Café 🎉' }), 201);
    assert.equal(fine.name, 'Café 🎉');
  });

  it('JSON nested deeper than 32 levels is a 400, even unauthenticated; a NUL on the portal is a 400 page', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    for (const url of ['/api/v1/accounts', '/api/v1/session', '/nope']) {
      const res = await h.app.inject({
        method: 'POST',
        url,
        payload: deep,
        headers: { 'content-type': 'application/json' },
      });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} → ${res.statusCode}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
    const website = await makeWebsite(h);
    const page = await h.app.inject({ method: 'GET', url: `/portal/${website.slug}/redeem?code=a%00b` });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /Something is wrong with that request/);
    const slug = await h.app.inject({ method: 'GET', url: '/portal/a%00b/' });
    assert.equal(slug.statusCode, 404);
  });

  it('405 with Allow for a method a path does not take; 404 for a path that does not exist', async () => {
    const res = await h.api('PUT', '/api/v1/contacts');
    const p = problem(res, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(res.headers.allow, 'GET, HEAD, POST');
    assert.match(p.detail, /PUT is not allowed on \/api\/v1\/contacts/);
    const one = await h.api('POST', `/api/v1/contacts/${crypto.randomUUID()}`);
    problem(one, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(one.headers.allow, 'GET, HEAD, PATCH, DELETE');
    problem(await h.api('GET', '/api/v1/no-such-thing'), 404, 'NOT_FOUND');
  });

  it('414 for a URL or a path segment too long, 415 for text/plain, all problem+json', async () => {
    problem(await h.api('GET', `/api/v1/contacts/${'a'.repeat(200)}`), 414, 'URI_TOO_LONG');
    problem(await h.api('GET', `/api/v1/contacts?search=${'a'.repeat(9000)}`), 414, 'URI_TOO_LONG');
    problem(
      await h.api('POST', '/api/v1/accounts', 'name', { 'content-type': 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('at the socket: 431 and 414 from the HTTP parser, 413 read to the end without Expect, all problem+json', async () => {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    /** One raw HTTP/1.1 exchange: the head, then `bodyBytes` of body written without waiting. */
    const exchange = (head: string, bodyBytes = 0) =>
      new Promise<{ status: number; type: string; body: string; error: string | null }>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        let got = '';
        let error: string | null = null;
        socket.on('data', (d) => {
          got += d.toString('latin1');
        });
        socket.on('error', (e: NodeJS.ErrnoException) => {
          error = e.code ?? e.message;
        });
        socket.on('close', () => {
          const [top = '', body = ''] = got.split('\r\n\r\n');
          resolve({
            status: Number(top.split(' ')[1]),
            type: /content-type: ([^\r]+)/i.exec(top)?.[1] ?? '',
            body,
            error,
          });
        });
        socket.write(head);
        const chunk = Buffer.alloc(64 * 1024, 'a');
        let left = bodyBytes;
        const pump = () => {
          while (left > 0) {
            left -= chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
    const auth = `authorization: Bearer ${h.apiKey}\r\n`;
    const longUrl = await exchange(
      `GET /api/v1/contacts?search=${'a'.repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
    );
    assert.deepEqual([longUrl.status, longUrl.type], [414, 'application/problem+json']);
    assert.equal(JSON.parse(longUrl.body).code, 'URI_TOO_LONG');
    const bigHeader = await exchange(
      `GET /api/v1/contacts HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.deepEqual([bigHeader.status, JSON.parse(bigHeader.body).code], [431, 'HEADERS_TOO_LARGE']);
    const size = 8 * 1024 * 1024;
    const upload = await exchange(
      `POST /api/v1/accounts HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: ${size}\r\n\r\n`,
      size,
    );
    assert.deepEqual([upload.status, upload.type, upload.error], [413, 'application/problem+json', null]);
    assert.equal(JSON.parse(upload.body).code, 'PAYLOAD_TOO_LARGE');
  });

  it('no 500 was logged by any of the above', () => {
    assert.ok(!h.logs().includes('"statusCode":500'), 'a request ended in 500');
  });
});
