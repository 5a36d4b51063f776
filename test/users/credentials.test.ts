import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Json, ok, problem, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { userLinkTokens } from '../support/user-links.ts';

const PASSPHRASE = 'a long console passphrase';

onBothDatabases('back-office users: invitations, forgotten passwords, links', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true, env: { ADMIT_RATE_LIMIT_PER_IP: '100000' } });
  });
  after(() => h.close());

  const publicCall = (url: string, payload: Json) => h.app.inject({ method: 'POST', url, payload });
  const signIn = (email: string, password: string) => publicCall('/api/v1/session', { email, password });
  const newUser = async (role = 'operator') =>
    ok<Json>(
      await h.api('POST', '/api/v1/users', {
        name: `Olive ${rand(2)}`,
        email: `olive.${rand()}@example.test`,
        role,
      }),
      201,
    );

  it('an invited user opens the emailed link, chooses a password once, and signs in', async () => {
    const user = await newUser();
    problem(await signIn(user.email, PASSPHRASE), 401, 'UNAUTHENTICATED');
    const [token] = await userLinkTokens(h, user.email);
    const described = ok<Json>(await publicCall('/api/v1/session/link', { token }));
    assert.deepEqual(described, { purpose: 'invite', email: user.email, name: user.name });
    problem(
      await publicCall('/api/v1/session/set-password', { token, password: 'short' }),
      400,
      'VALIDATION_FAILED',
    );
    const set = ok<Json>(await publicCall('/api/v1/session/set-password', { token, password: PASSPHRASE }));
    assert.equal(set.email, user.email);
    const session = ok<Json>(await signIn(user.email, PASSPHRASE));
    assert.equal(session.mustChangePassword, false);
    assert.equal(session.user.role, 'operator');
    problem(
      await publicCall('/api/v1/session/set-password', { token, password: `${PASSPHRASE} 2` }),
      410,
      'TOKEN_NOT_VALID',
    );
    problem(await publicCall('/api/v1/session/link', { token }), 410, 'TOKEN_NOT_VALID');
    // The stored copy of the email masks the link's token.
    const emails = ok<Json>(await h.api('GET', '/api/v1/emails?limit=200')).items as Json[];
    const mine = emails.filter((e) => e.to === user.email);
    assert.equal(mine.length, 1);
    assert.ok(!JSON.stringify(emails).includes(token as string), 'no token in the stored copy');
    assert.ok(!h.logs().includes(token as string), 'no token in the logs');
  });

  it('"forgot your password": a reset link for a user, the same answer for nobody; it signs the user out everywhere', async () => {
    const user = await newUser('admin');
    const [invite] = await userLinkTokens(h, user.email);
    ok(await publicCall('/api/v1/session/set-password', { token: invite, password: PASSPHRASE }));
    const before = await signIn(user.email, PASSPHRASE);
    const cookie = before.cookies.find((c) => c.name === 'admit_admin')?.value;
    const nobody = await publicCall('/api/v1/session/forgot-password', {
      email: `nobody.${rand()}@example.test`,
    });
    const somebody = await publicCall('/api/v1/session/forgot-password', { email: user.email.toUpperCase() });
    assert.equal(nobody.statusCode, 202);
    assert.equal(somebody.statusCode, 202);
    assert.equal(nobody.body, somebody.body, 'the same answer either way');
    const [, reset] = await userLinkTokens(h, user.email, 2);
    assert.equal(
      ok<Json>(await publicCall('/api/v1/session/link', { token: reset })).purpose,
      'reset-password',
    );
    ok(await publicCall('/api/v1/session/set-password', { token: reset, password: `${PASSPHRASE} new` }));
    const old = await h.app.inject({
      method: 'GET',
      url: '/api/v1/session',
      headers: { cookie: `admit_admin=${cookie}` },
    });
    assert.equal(old.statusCode, 401, 'the session from before the reset ended');
    problem(await signIn(user.email, PASSPHRASE), 401, 'UNAUTHENTICATED');
    ok(await signIn(user.email, `${PASSPHRASE} new`));
  });

  it('refuses forged, expired and disabled users’ links; operators cannot invite', async () => {
    const user = await newUser();
    const [token] = await userLinkTokens(h, user.email);
    const forged = `${(token as string).slice(0, 37)}${'0'.repeat(64)}`;
    for (const t of [forged, 'not-a-token', `${token}x`])
      problem(
        await publicCall('/api/v1/session/set-password', { token: t, password: PASSPHRASE }),
        410,
        'TOKEN_NOT_VALID',
      );
    h.advance(8 * 86_400_000);
    try {
      problem(await publicCall('/api/v1/session/link', { token }), 410, 'TOKEN_NOT_VALID');
    } finally {
      h.advance(-8 * 86_400_000);
    }
    ok(await h.api('PATCH', `/api/v1/users/${user.id}`, { disabled: true }));
    problem(
      await publicCall('/api/v1/session/set-password', { token, password: PASSPHRASE }),
      410,
      'TOKEN_NOT_VALID',
    );
    problem(await h.api('POST', `/api/v1/users/${user.id}/invite`), 409, 'CONFLICT');
    ok(await h.api('PATCH', `/api/v1/users/${user.id}`, { disabled: false }));
    ok(await h.api('POST', `/api/v1/users/${user.id}/invite`), 202);
    await userLinkTokens(h, user.email, 2);

    const key = ok<Json>(await h.api('POST', '/api/v1/api-keys', { name: 'op', userId: user.id }), 201);
    problem(
      await h.api('POST', `/api/v1/users/${user.id}/invite`, undefined, {
        authorization: `Bearer ${key.secret}`,
      }),
      403,
      'FORBIDDEN',
    );
  });

  it('a user made without an invitation gets no email until invited', async () => {
    const user = ok<Json>(
      await h.api('POST', '/api/v1/users', {
        name: 'Quiet',
        email: `quiet.${rand()}@example.test`,
        role: 'operator',
        sendInvitation: false,
      }),
      201,
    );
    ok(await h.api('POST', `/api/v1/users/${user.id}/invite`), 202);
    const tokens = await userLinkTokens(h, user.email);
    assert.equal(tokens.length, 1);
  });
});
