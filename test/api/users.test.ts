import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Json, ok, problem, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('users and API keys', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const as =
    (key: string) => (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
      h.api(method, url, body, { authorization: `Bearer ${key}` });

  it('an administrator creates an operator and a key for it; the secret is shown once; operators cannot manage users', async () => {
    const operator = ok<Json>(
      await h.api('POST', '/api/v1/users', {
        name: 'Olive Operator',
        email: `olive.${rand()}@example.test`,
        role: 'operator',
      }),
      201,
    );
    assert.equal(operator.role, 'operator');
    assert.equal(operator.passwordHash, undefined);
    const created = ok<Json>(
      await h.api('POST', '/api/v1/api-keys', { name: 'olive laptop', userId: operator.id }),
      201,
    );
    assert.match(created.secret, /^admit_/);
    const list = ok<Json>(await h.api('GET', `/api/v1/api-keys?userId=${operator.id}`));
    assert.equal(list.items.length, 1);
    assert.equal(list.items[0].prefix, created.secret.slice(0, 12));
    assert.ok(!JSON.stringify(list).includes(created.secret), 'no secret in lists');
    assert.ok(!JSON.stringify(list).includes('hash'));

    const olive = as(created.secret);
    ok(await olive('GET', '/api/v1/contacts'));
    problem(await olive('GET', '/api/v1/users'), 403, 'FORBIDDEN');
    problem(await olive('POST', '/api/v1/api-keys', { name: 'more' }), 403, 'FORBIDDEN');
    problem(await olive('PATCH', `/api/v1/users/${operator.id}`, { role: 'admin' }), 403, 'FORBIDDEN');

    const users = ok<Json>(await h.api('GET', '/api/v1/users'));
    assert.ok(users.items.some((u: Json) => u.id === operator.id));
    problem(
      await h.api('POST', '/api/v1/users', {
        name: 'Again',
        email: operator.email.toUpperCase(),
        role: 'admin',
      }),
      409,
      'EMAIL_TAKEN',
    );
  });

  it('an operator works with contacts and invitations, but changes no website, template or provider', async () => {
    const operator = ok<Json>(
      await h.api('POST', '/api/v1/users', {
        name: 'Otto',
        email: `otto.${rand()}@example.test`,
        role: 'operator',
      }),
      201,
    );
    const key = ok<Json>(await h.api('POST', '/api/v1/api-keys', { name: 'otto', userId: operator.id }), 201);
    const otto = as(key.secret);
    const website = ok<Json>(
      await h.api('POST', '/api/v1/websites', { name: 'Ops', slug: `ops-${rand()}` }),
      201,
    );
    ok(await otto('GET', `/api/v1/websites/${website.id}`));
    ok(
      await otto('POST', '/api/v1/contacts', {
        firstName: 'A',
        lastName: 'B',
        email: `a.${rand()}@example.test`,
      }),
      201,
    );
    problem(
      await otto('POST', '/api/v1/websites', { name: 'Mine', slug: `mine-${rand()}` }),
      403,
      'FORBIDDEN',
    );
    problem(
      await otto('PATCH', `/api/v1/websites/${website.id}`, { settings: { openRegistrationEnabled: true } }),
      403,
      'FORBIDDEN',
    );
    const [template] = ok<Json>(await h.api('GET', '/api/v1/email-templates')).items as Json[];
    problem(
      await otto('PUT', `/api/v1/email-templates/${template?.id}`, {
        name: 'x',
        subject: 'x',
        html: 'x',
        text: 'x',
      }),
      403,
      'FORBIDDEN',
    );
    assert.equal(
      ok<Json>(await h.api('GET', `/api/v1/websites/${website.id}`)).settings.openRegistrationEnabled,
      false,
    );
  });

  it('deleting a key or disabling its user locks it out at once; the last administrator stays', async () => {
    const user = ok<Json>(
      await h.api('POST', '/api/v1/users', {
        name: 'Kim Key',
        email: `kim.${rand()}@example.test`,
        role: 'admin',
      }),
      201,
    );
    const k1 = ok<Json>(await h.api('POST', '/api/v1/api-keys', { name: 'one', userId: user.id }), 201);
    const k2 = ok<Json>(await h.api('POST', '/api/v1/api-keys', { name: 'two', userId: user.id }), 201);
    ok(await as(k1.secret)('GET', '/api/v1/users'));
    assert.equal((await h.api('DELETE', `/api/v1/api-keys/${k1.id}`)).statusCode, 204);
    problem(await as(k1.secret)('GET', '/api/v1/contacts'), 401, 'UNAUTHENTICATED');
    ok(await as(k2.secret)('GET', '/api/v1/contacts'), 200);
    ok(await h.api('PATCH', `/api/v1/users/${user.id}`, { disabled: true }));
    problem(await as(k2.secret)('GET', '/api/v1/contacts'), 401, 'UNAUTHENTICATED');
    problem(await h.api('DELETE', `/api/v1/api-keys/${k1.id}`), 404, 'NOT_FOUND');

    const admins = ok<Json>(await h.api('GET', '/api/v1/users?limit=500')).items.filter(
      (u: Json) => u.role === 'admin' && !u.disabled,
    );
    for (const admin of admins.slice(1))
      ok(await h.api('PATCH', `/api/v1/users/${admin.id}`, { role: 'operator' }));
    problem(await h.api('PATCH', `/api/v1/users/${admins[0].id}`, { disabled: true }), 409, 'CONFLICT');
    problem(await h.api('PATCH', `/api/v1/users/${admins[0].id}`, { role: 'operator' }), 409, 'CONFLICT');
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=api_key&entityId=${k1.id}`),
    ).items;
    assert.deepEqual(audit.map((e: Json) => e.action).sort(), ['api_key.created', 'api_key.deleted']);
  });
});
