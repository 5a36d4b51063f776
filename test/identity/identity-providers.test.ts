import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Json, makeWebsite, ok, problem, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const SECRET = `client-secret-${rand(12)}`;

onBothDatabases('identity providers of a website', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const create = (websiteId: string, body: Json = {}) =>
    h.api('POST', `/api/v1/websites/${websiteId}/identity-providers`, {
      displayName: 'Contoso',
      issuer: 'https://login.contoso.example/tenant/v2.0',
      clientId: 'admit-portal',
      clientSecret: SECRET,
      ...body,
    });

  it('adds a provider with safe defaults and the redirect URI to register, never the secret', async () => {
    const w = await makeWebsite(h);
    const res = await create(w.id);
    const p = ok<Json>(res, 201);
    assert.equal(p.protocol, 'oidc');
    assert.equal(p.buttonLabel, 'Continue with Contoso');
    assert.deepEqual(p.scopes, ['openid', 'email', 'profile']);
    assert.equal(p.trustEmailVerified, false, "a provider's email proves nothing until trusted");
    assert.equal(p.enabled, true);
    assert.equal(p.hasClientSecret, true);
    assert.equal(p.redirectUri, `http://portal.test/portal/${w.slug}/oidc/callback`);
    assert.equal(p.linkedContacts, 0);
    const list = ok<{ items: Json[] }>(await h.api('GET', `/api/v1/websites/${w.id}/identity-providers`));
    assert.deepEqual(list.items, [p]);
    assert.deepEqual(ok(await h.api('GET', `/api/v1/identity-providers/${p.id}`)), p);
    const audit = await h.api('GET', `/api/v1/audit-events?limit=50`);
    for (const body of [res.body, list.items, audit.body, h.logs()])
      assert.ok(!JSON.stringify(body).includes(SECRET), 'the client secret never leaves the server');
  });

  it('edits a provider; a new secret replaces the old without showing either', async () => {
    const w = await makeWebsite(h);
    const p = ok<Json>(await create(w.id), 201);
    const other = `another-secret-${rand(8)}`;
    const res = await h.api('PATCH', `/api/v1/identity-providers/${p.id}`, {
      buttonLabel: 'Sign in with Contoso',
      clientSecret: other,
      trustEmailVerified: true,
      scopes: ['openid', 'email'],
      enabled: false,
    });
    const edited = ok<Json>(res);
    assert.equal(edited.buttonLabel, 'Sign in with Contoso');
    assert.equal(edited.trustEmailVerified, true);
    assert.deepEqual(edited.scopes, ['openid', 'email']);
    assert.equal(edited.enabled, false);
    assert.ok(!res.body.includes(other));
    const audit = (await h.api('GET', `/api/v1/audit-events?limit=50`)).body;
    assert.ok(!audit.includes(other) && audit.includes('[changed]'));
  });

  it('refuses bad input with a clear 400 and changes nothing', async () => {
    const w = await makeWebsite(h);
    const cases: [Json, string][] = [
      [{ issuer: 'http://login.contoso.example' }, '/issuer'],
      [{ issuer: 'not a url' }, '/issuer'],
      [{ issuer: 'https://login.contoso.example/?tenant=1' }, '/issuer'],
      [{ issuer: 'https://user:pw@login.contoso.example' }, '/issuer'],
      [{ scopes: ['email', 'profile'] }, '/scopes'],
      [{ scopes: ['openid', 'has space'] }, '/scopes/1'],
      [{ clientSecret: '' }, '/clientSecret'],
      [{ displayName: 'a\nb' }, '/displayName'],
      [{ protocol: 'saml' }, '/protocol'],
      // Within the schema's lengths, but longer than their columns once sealed or encoded.
      [{ clientSecret: '🔑'.repeat(500) }, '/clientSecret'],
      [{ issuer: `https://login.example/${'é'.repeat(1900)}` }, '/issuer'],
      [{ scopes: ['openid', ...Array.from({ length: 29 }, (_, i) => `${i}`.padEnd(100, 's'))] }, '/scopes'],
    ];
    for (const [body, path] of cases) {
      const p = problem(await create(w.id, body), 400, 'VALIDATION_FAILED');
      assert.ok(
        (p.errors as Json[]).some((e) => e.path === path),
        `${JSON.stringify(body)} names ${path}: ${JSON.stringify(p.errors)}`,
      );
    }
    const list = ok<{ items: Json[] }>(await h.api('GET', `/api/v1/websites/${w.id}/identity-providers`));
    assert.deepEqual(list.items, []);
  });

  it('keeps display names unique per website, and 404s what does not exist', async () => {
    const w = await makeWebsite(h);
    ok(await create(w.id), 201);
    problem(await create(w.id), 409, 'IDENTITY_PROVIDER_NAME_TAKEN');
    ok(await create((await makeWebsite(h)).id), 201);
    const missing = '01900000-0000-7000-8000-000000000000';
    problem(await create(missing), 404, 'NOT_FOUND');
    problem(await h.api('GET', `/api/v1/identity-providers/${missing}`), 404, 'NOT_FOUND');
    problem(
      await h.api('PATCH', `/api/v1/identity-providers/${missing}`, { enabled: false }),
      404,
      'NOT_FOUND',
    );
    problem(await h.api('DELETE', `/api/v1/identity-providers/${missing}`), 404, 'NOT_FOUND');
  });

  it('removes a provider nobody is linked to', async () => {
    const w = await makeWebsite(h);
    const p = ok<Json>(await create(w.id), 201);
    ok(await h.api('DELETE', `/api/v1/identity-providers/${p.id}`), 204);
    problem(await h.api('GET', `/api/v1/identity-providers/${p.id}`), 404, 'NOT_FOUND');
  });

  it('operators read providers; only administrators add, edit or remove them', async () => {
    const w = await makeWebsite(h);
    const p = ok<Json>(await create(w.id), 201);
    const operator = ok<Json>(
      await h.api('POST', '/api/v1/users', {
        name: 'Op',
        email: `op.${rand()}@example.test`,
        role: 'operator',
      }),
      201,
    );
    const key = ok<Json>(await h.api('POST', '/api/v1/api-keys', { name: 'op', userId: operator.id }), 201);
    const as = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: Json) =>
      h.api(method, url, body, { authorization: `Bearer ${key.secret}` });
    assert.equal(
      ok<{ items: Json[] }>(await as('GET', `/api/v1/websites/${w.id}/identity-providers`)).items.length,
      1,
    );
    ok(await as('GET', `/api/v1/identity-providers/${p.id}`));
    problem(
      await as('POST', `/api/v1/websites/${w.id}/identity-providers`, {
        displayName: 'Other',
        issuer: 'https://other.example',
        clientId: 'x',
        clientSecret: 'y',
      }),
      403,
      'FORBIDDEN',
    );
    problem(
      await as('PATCH', `/api/v1/identity-providers/${p.id}`, { trustEmailVerified: true }),
      403,
      'FORBIDDEN',
    );
    problem(await as('DELETE', `/api/v1/identity-providers/${p.id}`), 403, 'FORBIDDEN');
    assert.equal(
      ok<Json>(await h.api('GET', `/api/v1/identity-providers/${p.id}`)).trustEmailVerified,
      false,
    );
  });
});
