import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  type Json,
  makeContact,
  makeInvitation,
  makeSingle,
  makeWebRole,
  makeWebsite,
  ok,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import {
  countRows,
  land,
  makeMember,
  outboxLink,
  PASSWORD,
  pathOf,
  registration,
} from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

onBothDatabases('portal registration', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true, env: { ADMIT_RATE_LIMIT_PER_IP: '100000' } });
  });
  after(() => h.close());

  const contactOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/contacts/${id}`));

  it('Single: registers on the invited contact, email kept is confirmed, new session id, profile shows account and roles', async () => {
    const { website, invitation, contact, account, role } = await makeSingle(h);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const anonymous = b.session();
    const contactsBefore = await countRows(h, 'contacts');
    const res = await b.post(`/portal/${website.slug}/register?returnurl=%2F`, registration(contact.email));
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `/portal/${website.slug}/`);
    assert.notEqual(b.session(), anonymous, 'the session id changes at registration');
    assert.equal(await countRows(h, 'contacts'), contactsBefore, 'no duplicate contact');
    const after = await contactOf(contact.id);
    assert.equal(after.loginEnabled, true);
    assert.equal(after.emailConfirmed, true);
    assert.equal(after.parentAccountId, account.id);
    assert.deepEqual(after.webRoleIds, [role.id]);
    const profile = await b.get(`/portal/${website.slug}/profile`);
    const text = textOf(profile.body);
    assert.match(text, new RegExp(`Account ${account.name}`));
    assert.match(text, new RegExp(`Web roles ${role.name}`));
    assert.match(text, /\(confirmed\)/);
    const old = new PortalClient(h);
    old.cookies.set('admit_session', anonymous as string);
    assert.equal((await old.get(`/portal/${website.slug}/profile`)).statusCode, 303, 'the old id is dead');
  });

  it('Single with a changed email: unconfirmed, a confirmation email, and its link confirms (by POST, not by GET)', async () => {
    const { website, invitation, contact } = await makeSingle(h);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const newEmail = `changed.${rand()}@example.test`;
    await b.post(`/portal/${website.slug}/register`, registration(newEmail));
    const after = await contactOf(contact.id);
    assert.equal(after.email, newEmail);
    assert.equal(after.emailConfirmed, false);
    const link = await outboxLink(h, newEmail, 'confirm-email');
    const page = await b.get(pathOf(link));
    assert.equal(page.statusCode, 200);
    assert.equal((await contactOf(contact.id)).emailConfirmed, false, 'a GET confirms nothing');
    const done = await b.post(`/portal/${website.slug}/confirm-email`, {
      token: new URL(link).searchParams.get('token') as string,
    });
    assert.match(textOf(done.body), /Your email is confirmed/);
    assert.equal((await contactOf(contact.id)).emailConfirmed, true);
    const again = await b.post(`/portal/${website.slug}/confirm-email`, {
      token: new URL(link).searchParams.get('token') as string,
    });
    assert.equal(again.statusCode, 410, 'a token works once');
  });

  it('Group: an invited contact with that email is used; another email makes a new contact, sent to complete the profile', async () => {
    const website = await makeWebsite(h);
    const role = await makeWebRole(h, website.id);
    const invited = await makeContact(h);
    const group = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      invitedContactIds: [invited.id],
      maxRedemptions: 5,
      webRoleIds: [role.id],
    });
    const b = new PortalClient(h);
    await land(b, website.slug, group.code);
    const before = await countRows(h, 'contacts');
    await b.post(`/portal/${website.slug}/register`, registration(invited.email.toUpperCase()));
    assert.equal(await countRows(h, 'contacts'), before);
    assert.deepEqual((await contactOf(invited.id)).webRoleIds, [role.id]);

    const stranger = new PortalClient(h);
    await land(stranger, website.slug, group.code);
    const strangerEmail = `new.${rand()}@example.test`;
    const res = await stranger.post(`/portal/${website.slug}/register`, registration(strangerEmail));
    assert.equal(await countRows(h, 'contacts'), before + 1);
    assert.equal(res.headers.location, `/portal/${website.slug}/profile`, 'no name yet: the profile first');
    const profile = await stranger.get(res.headers.location as string);
    assert.match(profile.body, new RegExp(`value="${strangerEmail}"`));
    const saved = await stranger.post(`/portal/${website.slug}/profile`, {
      firstName: 'Grace',
      lastName: 'Hopper',
      email: strangerEmail,
    });
    assert.equal(saved.statusCode, 200);
    assert.match(textOf(saved.body), /Saved\./);
    assert.match(textOf(saved.body), new RegExp(`Web roles ${role.name}`));
  });

  it('an email or username that already signs in: a sign-in link, or the website’s existingUserPath', async () => {
    const member = await makeMember(h);
    const { website, invitation } = await makeSingle(h);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const res = await b.post(
      `/portal/${website.slug}/register`,
      registration(`x.${rand()}@example.test`, member.username),
    );
    assert.equal(res.statusCode, 409);
    assert.match(textOf(res.body), /You already have an account/);
    assert.match(res.body, new RegExp(`href="/portal/${website.slug}/signin"`));

    const withPath = await makeSingle(h);
    ok(
      await h.api('PATCH', `/api/v1/websites/${withPath.website.id}`, { existingUserPath: '/welcome-back' }),
    );
    const b2 = new PortalClient(h);
    await land(b2, withPath.website.slug, withPath.invitation.code);
    const res2 = await b2.post(`/portal/${withPath.website.slug}/register`, registration(member.email));
    assert.equal(res2.headers.location, `/portal/${withPath.website.slug}/welcome-back`);
    assert.equal((await contactOf(withPath.contact.id)).loginEnabled, false, 'nothing redeemed');
  });

  it('passwords: 8 to 256 characters, not a common one, typed twice the same; errors are shown next to the fields', async () => {
    const { website, invitation, contact } = await makeSingle(h);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const cases: [Json, RegExp][] = [
      [{ password: 'short', confirmPassword: 'short' }, /at least 8 characters/],
      [{ password: 'x'.repeat(257), confirmPassword: 'x'.repeat(257) }, /at most 256 characters/],
      [{ password: 'password123', confirmPassword: 'password123' }, /too common/],
      [{ password: PASSWORD, confirmPassword: `${PASSWORD}!` }, /do not match/],
      [{ email: 'not-an-email' }, /email address like/],
      [{ username: 'a b' }, /Use 3 to 100 letters/],
    ];
    for (const [change, message] of cases) {
      const res = await b.post(`/portal/${website.slug}/register`, {
        ...registration(contact.email),
        ...change,
      });
      assert.equal(res.statusCode, 422, String(message));
      assert.match(textOf(res.body), message);
      assert.match(res.body, /aria-invalid="true"/);
    }
    assert.equal((await contactOf(contact.id)).loginEnabled, false);
  });

  it('200 registrations at once with one Single code: exactly one account', async () => {
    const { website, invitation, contact } = await makeSingle(h);
    const clients = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const b = new PortalClient(h, `198.51.100.${i % 250}`);
        await land(b, website.slug, invitation.code);
        return b;
      }),
    );
    const before = await countRows(h, 'contacts');
    const results = await Promise.all(
      clients.map((b, i) =>
        b.post(
          `/portal/${website.slug}/register`,
          registration(i === 0 ? contact.email : `racer${i}.${rand()}@example.test`),
        ),
      ),
    );
    const succeeded = results.filter((r) => r.statusCode === 303);
    assert.equal(succeeded.length, 1);
    const others = results.filter((r) => r.statusCode !== 303);
    assert.deepEqual(
      [...new Set(others.map((r) => r.statusCode))],
      [422],
      `the others see the one message: ${others.filter((r) => r.statusCode !== 422).map((r) => `${r.statusCode} ${textOf(r.body).slice(0, 200)}`)}`,
    );
    assert.equal(await countRows(h, 'contacts'), before);
    const inv = ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}`));
    assert.equal(inv.redemptionCount, 1);
  });
});
