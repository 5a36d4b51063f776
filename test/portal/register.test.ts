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
  outboxLinks,
  PASSWORD,
  pathOf,
  registration,
  signInAs,
} from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

onBothDatabases('portal registration', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, {
      worker: true,
      env: { ADMIT_RATE_LIMIT_PER_IP: '100000', ADMIT_RATE_LIMIT_PER_CODE: '100000' },
    });
  });
  after(() => h.close());

  const contactOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/contacts/${id}`));
  const invitationOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/invitations/${id}`));

  it('Single: registers on the invited contact, email kept is confirmed, new session id, profile shows account and roles', async () => {
    const { website, invitation, contact, account, role } = await makeSingle(h);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const anonymous = b.session();
    const contactsBefore = await countRows(h, 'contacts');
    const res = await b.post(`/portal/${website.slug}/register?returnurl=%2F`, registration(contact.email));
    assert.equal(res.statusCode, 303);
    assert.equal(
      res.headers.location,
      `/portal/${website.slug}/profile`,
      'registered: the profile (seed 003)',
    );
    assert.notEqual(b.session(), anonymous, 'the session id changes at registration');
    assert.equal(await countRows(h, 'contacts'), contactsBefore, 'no duplicate contact');
    const after = await contactOf(contact.id);
    assert.equal(after.loginEnabled, true);
    assert.equal(after.emailConfirmed, true);
    assert.equal(after.parentAccountId, account.id);
    assert.deepEqual(after.webRoleIds, [role.id]);
    const profile = await b.get(`/portal/${website.slug}/profile`);
    const text = textOf(profile.body);
    assert.match(
      text,
      new RegExp(`You now have ${role.name} access at ${account.name}\\.`),
      'what it granted',
    );
    assert.doesNotMatch(
      textOf((await b.get(`/portal/${website.slug}/profile`)).body),
      /You now have/,
      'said once',
    );
    assert.match(text, new RegExp(`Account ${account.name}`));
    assert.match(text, new RegExp(`Web roles ${role.name}`));
    assert.match(text, /\(confirmed\)/);
    const old = new PortalClient(h);
    old.cookies.set('admit_session', anonymous as string);
    assert.equal((await old.get(`/portal/${website.slug}/profile`)).statusCode, 303, 'the old id is dead');
  });

  it('with profileRedirectEnabled off, a registration goes to the returnurl; the granted line shows there', async () => {
    const { website, invitation, contact } = await makeSingle(h, { webRoleIds: [], assignToAccountId: null });
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, { settings: { profileRedirectEnabled: false } }),
    );
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code, '%2Fprofile%3Ftab%3D1');
    const res = await b.post(
      `/portal/${website.slug}/register?returnurl=%2Fprofile%3Ftab%3D1`,
      registration(contact.email),
    );
    assert.equal(res.headers.location, `/portal/${website.slug}/profile?tab=1`);
    const home = await b.get(`/portal/${website.slug}/`);
    assert.match(textOf(home.body), new RegExp(`Your invitation to ${website.name} is accepted\\.`));
  });

  it('the granted line survives a redirect on the way to the page that shows it', async () => {
    const { website, invitation, contact } = await makeSingle(h);
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, { settings: { profileRedirectEnabled: false } }),
    );
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code, '%2Fsignin');
    const res = await b.post(
      `/portal/${website.slug}/register?returnurl=%2Fsignin`,
      registration(contact.email),
    );
    assert.equal(res.headers.location, `/portal/${website.slug}/signin`);
    const signin = await b.get(`/portal/${website.slug}/signin`);
    assert.equal(signin.statusCode, 303, 'signed in already: sent on');
    const landed = await b.follow(signin);
    assert.match(textOf(landed.body), /You now have .* access at /);
  });

  it('Single: a forwarded link cannot put the invited contact under another email; the email field is locked', async () => {
    const { website, invitation, contact } = await makeSingle(h);
    const b = new PortalClient(h);
    const page = await land(b, website.slug, invitation.code);
    assert.match(
      page.body,
      new RegExp(`id="email" name="email" type="email" value="${contact.email}" readonly`),
    );
    const attacker = `forwarded.${rand()}@example.test`;
    const res = await b.post(`/portal/${website.slug}/register`, registration(attacker));
    assert.equal(res.statusCode, 422);
    assert.match(textOf(res.body), /Register with the email address this invitation was sent to/);
    const after = await contactOf(contact.id);
    assert.equal(after.email, contact.email, 'the primary email is not overwritten');
    assert.equal(after.loginEnabled, false);
    assert.deepEqual(after.webRoleIds, []);
    assert.equal(after.parentAccountId, null);
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 0);
  });

  it('Single with invitationEmailChangeAllowed: nothing granted until the new address is confirmed; its link (and the password) completes it, once', async () => {
    const { website, invitation, contact, role, account } = await makeSingle(h);
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, {
        settings: { invitationEmailChangeAllowed: true },
      }),
    );
    const b = new PortalClient(h);
    const form = await land(b, website.slug, invitation.code);
    assert.doesNotMatch(form.body, /id="email"[^>]*readonly/, 'the email can be changed');
    const newEmail = `changed.${rand()}@example.test`;
    const res = await b.post(`/portal/${website.slug}/register`, registration(newEmail));
    assert.equal(res.statusCode, 200);
    assert.match(textOf(res.body), new RegExp(`Check your email We sent a link to ${newEmail}`));
    const held = await contactOf(contact.id);
    assert.equal(held.email, contact.email, 'the primary email does not change yet');
    assert.equal(held.loginEnabled, false, 'no credentials yet');
    assert.deepEqual(held.webRoleIds, [], 'nothing granted yet');
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 0);
    assert.equal((await b.get(`/portal/${website.slug}/profile`)).statusCode, 303, 'not signed in');

    const link = await outboxLink(h, newEmail, 'confirm-registration');
    const elsewhere = new PortalClient(h, '10.9.9.9');
    const confirm = await elsewhere.get(pathOf(link));
    assert.equal(confirm.statusCode, 200);
    assert.match(textOf(confirm.body), new RegExp(`Confirm that ${newEmail} is your email address`));
    assert.equal((await contactOf(contact.id)).loginEnabled, false, 'a GET completes nothing');
    const token = new URL(link).searchParams.get('token') as string;
    const wrong = await elsewhere.post(`/portal/${website.slug}/confirm-registration`, {
      token,
      password: 'not the password at all',
    });
    assert.equal(wrong.statusCode, 422);
    assert.match(textOf(wrong.body), /not the password you chose/);
    const done = await elsewhere.post(`/portal/${website.slug}/confirm-registration`, {
      token,
      password: PASSWORD,
    });
    assert.equal(done.statusCode, 303);
    const after = await contactOf(contact.id);
    assert.equal(after.email, newEmail);
    assert.equal(after.emailConfirmed, true);
    assert.equal(after.loginEnabled, true);
    assert.deepEqual(after.webRoleIds, [role.id]);
    assert.equal(after.parentAccountId, account.id);
    assert.equal((await elsewhere.get(`/portal/${website.slug}/profile`)).statusCode, 200, 'signed in');
    await elsewhere.get(pathOf(link));
    const again = await elsewhere.post(`/portal/${website.slug}/confirm-registration`, {
      token,
      password: PASSWORD,
    });
    assert.equal(again.statusCode, 410, 'a link works once');
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 1);
  });

  it('Group: an invited contact is used only after its inbox (and the password) is proven; another email makes a new contact, sent to complete the profile', async () => {
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
    // A stranger with the forwarded code types the invited person's email: nothing is granted, the link
    // goes to the invited inbox, and it cannot be completed without the stranger's password.
    const stranger = new PortalClient(h);
    await land(stranger, website.slug, group.code);
    const before = await countRows(h, 'contacts');
    const claimed = await stranger.post(
      `/portal/${website.slug}/register`,
      registration(invited.email.toUpperCase(), `claim_${rand()}`, 'the strangers own passphrase'),
    );
    assert.match(textOf(claimed.body), /Check your email/);
    assert.equal((await contactOf(invited.id)).loginEnabled, false);
    assert.deepEqual((await contactOf(invited.id)).webRoleIds, []);
    const strangersLink = await outboxLink(h, invited.email, 'confirm-registration');
    const victim = new PortalClient(h, '10.7.7.7');
    await victim.get(pathOf(strangersLink));
    const refused = await victim.post(`/portal/${website.slug}/confirm-registration`, {
      token: new URL(strangersLink).searchParams.get('token') as string,
      password: PASSWORD,
    });
    assert.equal(refused.statusCode, 422);
    assert.equal((await contactOf(invited.id)).loginEnabled, false);

    // The invited person registers and proves the inbox: the invited record is used.
    const b = new PortalClient(h);
    await land(b, website.slug, group.code);
    await b.post(`/portal/${website.slug}/register`, registration(invited.email));
    const links = await outboxLinks(h, invited.email, 'confirm-registration', 2);
    const own = links.find((l) => l !== strangersLink) as string;
    await b.get(pathOf(own));
    const done = await b.post(`/portal/${website.slug}/confirm-registration`, {
      token: new URL(own).searchParams.get('token') as string,
      password: PASSWORD,
    });
    assert.equal(done.statusCode, 303, textOf(done.body));
    assert.equal(await countRows(h, 'contacts'), before, 'no duplicate contact');
    assert.deepEqual((await contactOf(invited.id)).webRoleIds, [role.id]);
    assert.equal((await contactOf(invited.id)).emailConfirmed, true);

    const newcomer = new PortalClient(h);
    await land(newcomer, website.slug, group.code);
    const newcomerEmail = `new.${rand()}@example.test`;
    const res = await newcomer.post(`/portal/${website.slug}/register`, registration(newcomerEmail));
    assert.equal(await countRows(h, 'contacts'), before + 1);
    assert.equal(res.headers.location, `/portal/${website.slug}/profile`, 'no name yet: the profile first');
    const profile = await newcomer.get(res.headers.location as string);
    assert.match(profile.body, new RegExp(`value="${newcomerEmail}"`));
    const saved = await newcomer.post(`/portal/${website.slug}/profile`, {
      firstName: 'Grace',
      lastName: 'Hopper',
      email: newcomerEmail,
    });
    assert.equal(saved.statusCode, 200);
    assert.match(textOf(saved.body), /Saved\./);
    assert.match(textOf(saved.body), new RegExp(`Web roles ${role.name}`));
  });

  it('Group with invitedContactsOnly: strangers with the forwarded code are refused and the places stay for the invited', async () => {
    const website = await makeWebsite(h);
    const invited = [await makeContact(h), await makeContact(h)];
    const group = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      invitedContactIds: invited.map((c) => c.id),
      maxRedemptions: 2,
      invitedContactsOnly: true,
    });
    for (const n of [1, 2]) {
      const stranger = new PortalClient(h);
      await land(stranger, website.slug, group.code);
      const res = await stranger.post(
        `/portal/${website.slug}/register`,
        registration(`stranger${n}.${rand()}@example.test`),
      );
      assert.equal(res.statusCode, 422);
      assert.match(textOf(res.body), /only for the people it was sent to/);
    }
    assert.equal((await invitationOf(group.id)).redemptionCount, 0, 'both places still free');
    const outsider = await makeMember(h, {}, [website.id]);
    const c = new PortalClient(h);
    await land(c, website.slug, group.code);
    await signInAs(c, website.slug, outsider.username);
    const page = await c.get(`/portal/${website.slug}/redeem/confirm`);
    assert.equal(page.statusCode, 403, 'a signed-in contact who is not invited is told so');
    for (const person of invited) {
      const b = new PortalClient(h);
      await land(b, website.slug, group.code);
      await b.post(`/portal/${website.slug}/register`, registration(person.email));
      const link = await outboxLink(h, person.email, 'confirm-registration');
      await b.get(pathOf(link));
      const done = await b.post(`/portal/${website.slug}/confirm-registration`, {
        token: new URL(link).searchParams.get('token') as string,
        password: PASSWORD,
      });
      assert.equal(done.statusCode, 303);
    }
    assert.equal((await invitationOf(group.id)).redemptionCount, 2);
    const single = await h.api('POST', '/api/v1/invitations', {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [invited[0]?.id],
      invitedContactsOnly: true,
    });
    assert.equal(single.statusCode, 400, 'a Group choice');
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
      [{ email: 'a\u0085b@example.test' }, /email address like/],
      [{ email: 'a\u200bb@example.test' }, /email address like/],
      [{ email: 'ad\u202ea@example.test' }, /email address like/],
      [{ password: `tab\there-and-there`, confirmPassword: `tab\there-and-there` }, /no tabs, line breaks/],
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
        b.post(`/portal/${website.slug}/register`, registration(contact.email, `racer${i}_${rand()}`)),
      ),
    );
    const succeeded = results.filter((r) => r.statusCode === 303);
    assert.equal(succeeded.length, 1);
    const others = results.filter((r) => r.statusCode !== 303);
    assert.deepEqual(
      [...new Set(others.map((r) => r.statusCode))],
      [422],
      `the others see the one message: ${others
        .filter((r) => r.statusCode !== 422)
        .slice(0, 3)
        .map((r) => `${r.statusCode} ${textOf(r.body).slice(0, 200)}`)}`,
    );
    assert.equal(await countRows(h, 'contacts'), before);
    const inv = ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}`));
    assert.equal(inv.redemptionCount, 1);
  });
});
