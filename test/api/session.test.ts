import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ensureFirstAdmin } from '../../src/modules/users/user.sign-in.ts';
import { type Json, ok, problem, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { setPasswordForTest } from '../support/users.ts';

onBothDatabases('admin console sign-in', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  /** An admin console browser: its session cookie, and its CSRF token once it has one. */
  function consoleClient() {
    let cookie = '';
    let csrf = '';
    const call = async (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res: LightMyRequestResponse = await h.app.inject({
        method,
        url,
        headers: { cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}), ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      const set = res.cookies.find((c) => c.name === 'admit_admin');
      if (set) cookie = set.value ? `admit_admin=${set.value}` : '';
      if (res.headers['content-type']?.toString().includes('json') && res.statusCode === 200) {
        const b = res.json() as Json;
        if (b.csrfToken) csrf = b.csrfToken;
      }
      return res;
    };
    return { call, cookie: () => cookie, dropCsrf: () => (csrf = '') };
  }

  it('the first start makes an administrator with a one-time password, which must be changed first', async () => {
    const printed = await ensureFirstAdmin(h.deps);
    assert.ok(printed?.oneTimePassword, 'a generated password');
    // Restarted (or another process started) before anyone signed in: the same password, still good.
    const [first, other] = await Promise.all([ensureFirstAdmin(h.deps), ensureFirstAdmin(h.deps)]);
    assert.ok(first?.oneTimePassword);
    assert.equal(first.oneTimePassword, printed.oneTimePassword);
    assert.equal(other?.oneTimePassword, printed.oneTimePassword);
    const c = consoleClient();
    problem(
      await c.call('POST', '/api/v1/session', { email: first.email, password: 'wrong password' }),
      401,
      'UNAUTHENTICATED',
    );
    const signedIn = ok<Json>(
      await c.call('POST', '/api/v1/session', { email: first.email, password: first.oneTimePassword }),
    );
    assert.equal(signedIn.mustChangePassword, true);
    assert.equal(signedIn.user.role, 'admin');
    const sessionCookie = c.cookie();
    assert.ok(sessionCookie);
    problem(await c.call('GET', '/api/v1/contacts'), 403, 'PASSWORD_CHANGE_REQUIRED');
    problem(
      await c.call('POST', '/api/v1/session/password', {
        currentPassword: first.oneTimePassword,
        newPassword: 'password1',
      }),
      400,
      'VALIDATION_FAILED',
    );
    const changed = await c.call('POST', '/api/v1/session/password', {
      currentPassword: first.oneTimePassword,
      newPassword: 'a new and long admin passphrase',
    });
    assert.equal(changed.statusCode, 204);
    assert.notEqual(c.cookie(), sessionCookie, 'the session id changes');
    ok(await c.call('GET', '/api/v1/contacts'));
    const again = consoleClient();
    problem(
      await again.call('POST', '/api/v1/session', { email: first.email, password: first.oneTimePassword }),
      401,
      'UNAUTHENTICATED',
    );
    ok(
      await again.call('POST', '/api/v1/session', {
        email: first.email,
        password: 'a new and long admin passphrase',
      }),
    );
    assert.equal(ok<Json>(await again.call('GET', '/api/v1/session')).mustChangePassword, false);
    assert.equal(await ensureFirstAdmin(h.deps), null, 'once a password is chosen, starts leave it alone');
  });

  it('a disabled first administrator is not armed again; its one-time password stops working', async () => {
    const other = await startHarness(dialect);
    try {
      const first = await ensureFirstAdmin(other.deps);
      assert.ok(first?.oneTimePassword);
      await other.deps.db
        .updateTable('users')
        .set({ disabled: dialect === 'sqlite' ? 1 : true } as never)
        .where('email_normalized', '=', first.email)
        .execute();
      assert.equal(await ensureFirstAdmin(other.deps), null, 'the banner then says how to reset instead');
      const res = await other.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: first.email, password: first.oneTimePassword },
      });
      assert.equal(res.statusCode, 401);
    } finally {
      await other.close();
    }
  });

  it('ADMIT_BOOTSTRAP_ADMIN_* makes the first administrator with that password, no change required', async () => {
    const other = await startHarness(dialect, {
      env: {
        ADMIT_BOOTSTRAP_ADMIN_EMAIL: 'root@example.test',
        ADMIT_BOOTSTRAP_ADMIN_PASSWORD: 'root passphrase 2026',
      },
    });
    try {
      assert.deepEqual(await ensureFirstAdmin(other.deps), {
        email: 'root@example.test',
        oneTimePassword: null,
      });
      const res = await other.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: 'root@example.test', password: 'root passphrase 2026' },
      });
      assert.equal(res.json().mustChangePassword, false);
      const cookie = res.cookies.find((c) => c.name === 'admit_admin');
      assert.ok(cookie?.httpOnly && cookie.sameSite === 'Lax' && cookie.path === '/');
    } finally {
      await other.close();
    }
  });

  it('cookie sessions need the CSRF token for changes; signing out ends the session', async () => {
    const email = `console.${rand()}@example.test`;
    const user = ok<Json>(
      await h.api('POST', '/api/v1/users', { name: 'Console', email, role: 'operator' }),
      201,
    );
    await setPasswordForTest(h, user.id, 'operator passphrase 123');
    const c = consoleClient();
    ok(await c.call('POST', '/api/v1/session', { email, password: 'operator passphrase 123' }));
    const body = { firstName: 'Via', lastName: 'Console', email: `via.${rand()}@example.test` };
    ok(await c.call('POST', '/api/v1/contacts', body), 201);
    c.dropCsrf();
    problem(await c.call('POST', '/api/v1/contacts', body), 403, 'CSRF_FAILED');
    problem(await c.call('POST', '/api/v1/contacts', body, { 'x-csrf-token': 'forged' }), 403, 'CSRF_FAILED');
    ok(await c.call('GET', '/api/v1/contacts'), 200);
    problem(await c.call('GET', '/api/v1/users'), 403, 'FORBIDDEN');
    const session = ok<Json>(await c.call('GET', '/api/v1/session'));
    assert.equal(
      (await c.call('DELETE', '/api/v1/session', undefined, { 'x-csrf-token': session.csrfToken }))
        .statusCode,
      204,
    );
    problem(await c.call('GET', '/api/v1/contacts'), 401, 'UNAUTHENTICATED');
    problem(await h.app.inject({ method: 'GET', url: '/api/v1/contacts' }), 401, 'UNAUTHENTICATED');
    assert.ok(!h.logs().includes('operator passphrase 123'));
  });
});
