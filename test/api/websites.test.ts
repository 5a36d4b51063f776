import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  type Json,
  makeContact,
  makeInvitation,
  makeWebRole,
  makeWebsite,
  ok,
  problem,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('websites and web roles', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('creates a website with invitation-first default settings and a base URL under PUBLIC_URL', async () => {
    const w = await makeWebsite(h);
    assert.equal(w.baseUrl, `http://portal.test/portal/${w.slug}`);
    assert.equal(w.baseUrlIsDefault, true);
    assert.equal(w.settings.openRegistrationEnabled, false);
    assert.equal(w.settings.defaultInvitationLifetimeDays, 14);
    assert.equal(w.settings.redeemByOtherContactAllowed, false);
    assert.deepEqual(ok(await h.api('GET', `/api/v1/websites/${w.id}`)), w);
  });

  it('refuses a second website with the same slug', async () => {
    const w = await makeWebsite(h);
    problem(await h.api('POST', '/api/v1/websites', { name: 'Other', slug: w.slug }), 409, 'SLUG_TAKEN');
  });

  it('refuses slugs that are not url-safe and base URLs that are not absolute', async () => {
    for (const slug of ['Has Space', 'UPPER', '-dash', 'a/b', '']) {
      problem(await h.api('POST', '/api/v1/websites', { name: 'X', slug }), 400, 'VALIDATION_FAILED');
    }
    for (const baseUrl of ['/relative', 'javascript:alert(1)', 'https://x.test/?q=1', 'ftp://x.test']) {
      problem(
        await h.api('POST', '/api/v1/websites', { name: 'X', slug: `s-${rand()}`, baseUrl }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it('patches settings one at a time, keeping the others', async () => {
    const w = await makeWebsite(h);
    const patched = ok<Json>(
      await h.api('PATCH', `/api/v1/websites/${w.id}`, {
        settings: { allowNonExpiringInvitations: true },
        baseUrl: 'https://partners.example.com/',
      }),
    );
    assert.equal(patched.settings.allowNonExpiringInvitations, true);
    assert.equal(patched.settings.defaultInvitationLifetimeDays, 14);
    assert.equal(patched.baseUrl, 'https://partners.example.com');
    assert.equal(patched.baseUrlIsDefault, false);
    problem(
      await h.api('PATCH', `/api/v1/websites/${w.id}`, { settings: { defaultInvitationLifetimeDays: 0 } }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('PATCH', `/api/v1/websites/${w.id}`, { settings: { noSuchSetting: true } }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('PATCH', `/api/v1/websites/${w.id}`, { existingUserPath: '//evil.test' }),
      400,
      'VALIDATION_FAILED',
    );
    assert.equal(
      ok<Json>(await h.api('PATCH', `/api/v1/websites/${w.id}`, { existingUserPath: '/recover' }))
        .existingUserPath,
      '/recover',
    );
    const audit = ok<Json>(await h.api('GET', `/api/v1/audit-events?entityType=website&entityId=${w.id}`));
    assert.deepEqual(
      audit.items.map((e: Json) => e.action),
      ['website.updated', 'website.updated', 'website.created'],
    );
  });

  it('pages through websites with a cursor', async () => {
    for (let i = 0; i < 3; i++) await makeWebsite(h);
    const first = ok<Json>(await h.api('GET', '/api/v1/websites?limit=2'));
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const second = ok<Json>(await h.api('GET', `/api/v1/websites?limit=2&cursor=${first.nextCursor}`));
    assert.ok(second.items.length >= 1);
    const ids = [...first.items, ...second.items].map((w: Json) => w.id);
    assert.equal(new Set(ids).size, ids.length, 'no item twice');
    problem(await h.api('GET', '/api/v1/websites?cursor=bogus'), 400, 'INVALID_CURSOR');
    problem(await h.api('GET', '/api/v1/websites?limit=501'), 400, 'VALIDATION_FAILED');
    problem(
      await h.api('GET', `/api/v1/websites/${'0'.repeat(8)}-0000-7000-8000-000000000000`),
      404,
      'NOT_FOUND',
    );
  });

  it('manages web roles: unique names per website, edit, delete', async () => {
    const w = await makeWebsite(h);
    const other = await makeWebsite(h);
    const role = await makeWebRole(h, w.id, 'Partner');
    await makeWebRole(h, other.id, 'Partner');
    problem(
      await h.api('POST', `/api/v1/websites/${w.id}/web-roles`, { name: 'Partner' }),
      409,
      'WEB_ROLE_NAME_TAKEN',
    );
    const renamed = ok<Json>(
      await h.api('PATCH', `/api/v1/web-roles/${role.id}`, { description: 'Resellers' }),
    );
    assert.equal(renamed.description, 'Resellers');
    assert.equal(renamed.name, 'Partner');
    const list = ok<Json>(await h.api('GET', `/api/v1/websites/${w.id}/web-roles`));
    assert.deepEqual(
      list.items.map((r: Json) => r.id),
      [role.id],
    );
    ok(await h.api('DELETE', `/api/v1/web-roles/${role.id}`), 204);
    problem(await h.api('DELETE', `/api/v1/web-roles/${role.id}`), 404, 'NOT_FOUND');
    problem(
      await h.api('GET', `/api/v1/websites/${'0'.repeat(8)}-0000-7000-8000-000000000000/web-roles`),
      404,
      'NOT_FOUND',
    );
  });

  it('keeps a web role an invitation grants, and removes a deleted role from contacts', async () => {
    const w = await makeWebsite(h);
    const granted = await makeWebRole(h, w.id);
    const held = await makeWebRole(h, w.id);
    const contact = await makeContact(h, { webRoleIds: [held.id] });
    await makeInvitation(h, {
      type: 'single',
      websiteId: w.id,
      invitedContactIds: [contact.id],
      webRoleIds: [granted.id],
    });
    problem(await h.api('DELETE', `/api/v1/web-roles/${granted.id}`), 409, 'IN_USE');
    ok(await h.api('DELETE', `/api/v1/web-roles/${held.id}`), 204);
    assert.deepEqual(ok<Json>(await h.api('GET', `/api/v1/contacts/${contact.id}`)).webRoleIds, []);
  });
});
