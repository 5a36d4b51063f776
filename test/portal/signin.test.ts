import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { IDLE_MS } from '../../src/http/session.ts';
import { type Json, makeInvitation, makeSingle, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { land, makeMember, outboxLink, PASSWORD, pathOf, signInAs } from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

onBothDatabases('portal sign-in and redemption into an existing account', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, {
      worker: true,
      env: { ADMIT_RATE_LIMIT_PER_IP: '100000', ADMIT_RATE_LIMIT_PER_CODE: '100000' },
    });
  });
  after(() => h.close());

  const invitationOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/invitations/${id}`));

  it('signing in changes the session id; a wrong password says so without saying which part', async () => {
    const website = await makeWebsite(h);
    const member = await makeMember(h, {}, [website.id]);
    const b = new PortalClient(h);
    const wrong = await signInAs(b, website.slug, member.username, 'not the password');
    assert.equal(wrong.statusCode, 401);
    assert.match(textOf(wrong.body), /The username or password is not right/);
    const unknown = await signInAs(b, website.slug, 'nobody_at_all', PASSWORD);
    assert.equal(unknown.statusCode, 401);
    await land(b, website.slug, 'ZZZZ'); // gives the visitor a session before signing in
    const before = b.session();
    const ok1 = await signInAs(b, website.slug, member.username.toUpperCase());
    assert.equal(ok1.statusCode, 303);
    assert.notEqual(b.session(), before);
    assert.ok(b.session());
    const home = await b.get(`/portal/${website.slug}/`);
    assert.match(textOf(home.body), new RegExp(`Welcome, ${member.firstName}`));
    const out = await b.post(`/portal/${website.slug}/signout`, {});
    assert.equal(out.statusCode, 303);
    assert.equal((await b.get(`/portal/${website.slug}/profile`)).statusCode, 303, 'signed out');
  });

  it('"I have an existing account": sign in, confirm "Redeem this invitation for…", then redeemed, with a new session id', async () => {
    const member = await makeMember(h);
    const { website, invitation } = await makeSingle(h);
    ok(await h.api('PATCH', `/api/v1/invitations/${invitation.id}`, { invitedContactIds: [member.id] }));
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const signedIn = await signInAs(b, website.slug, member.username);
    assert.equal(signedIn.headers.location, `/portal/${website.slug}/redeem/confirm`);
    const confirm = await b.follow(signedIn);
    assert.match(
      textOf(confirm.body),
      new RegExp(`Redeem this invitation for ${member.firstName} ${member.lastName} ?\\?`),
    );
    assert.match(confirm.body, />Redeem invitation<\/button>/);
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 0, 'nothing before the confirmation');
    const session = b.session();
    const done = await b.post(`/portal/${website.slug}/redeem/confirm`, {});
    assert.equal(done.statusCode, 303);
    assert.notEqual(b.session(), session);
    const inv = await invitationOf(invitation.id);
    assert.equal(inv.redemptionCount, 1);
    assert.deepEqual(inv.redeemedContactIds, [member.id]);
  });

  it('a Single invitation for someone else: "for someone else" with a way out, never a confirmation; unless the website allows others', async () => {
    const { website, invitation } = await makeSingle(h);
    const member = await makeMember(h, {}, [website.id]);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const signedIn = await signInAs(b, website.slug, member.username);
    assert.equal(signedIn.headers.location, `/portal/${website.slug}/redeem/confirm`);
    const page = await b.follow(signedIn);
    assert.equal(page.statusCode, 403);
    const text = textOf(page.body);
    assert.match(text, /This invitation is for someone else/);
    assert.ok(!text.includes('Redeem this invitation for'), 'no confirmation that would then fail');
    assert.match(page.body, />Sign out and continue<\/button>/);
    const forced = await b.post(`/portal/${website.slug}/redeem/confirm`, {});
    assert.notEqual(forced.statusCode, 303);
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 0);

    // "Sign out and continue": signed out, the invitation kept, on its registration page.
    await b.get(`/portal/${website.slug}/redeem/confirm`);
    const out = await b.post(`/portal/${website.slug}/signout`, { continue: 'invitation' });
    assert.equal(out.headers.location, `/portal/${website.slug}/register`);
    const registration = await b.follow(out);
    assert.match(textOf(registration.body), /Accept your invitation/);
    assert.equal((await b.get(`/portal/${website.slug}/profile`)).statusCode, 303, 'signed out');

    // Another website's member who is not invited cannot even sign in here.
    const stranger = await makeMember(h);
    const c = new PortalClient(h);
    await land(c, website.slug, invitation.code);
    assert.equal((await signInAs(c, website.slug, stranger.username)).statusCode, 401);

    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, {
        settings: { redeemByOtherContactAllowed: true },
      }),
    );
    const b2 = new PortalClient(h);
    await land(b2, website.slug, invitation.code);
    await signInAs(b2, website.slug, member.username);
    await b2.get(`/portal/${website.slug}/redeem/confirm`);
    const allowed = await b2.post(`/portal/${website.slug}/redeem/confirm`, {});
    assert.equal(allowed.statusCode, 303);
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 1);
  });

  it('returnurl: only paths of this portal; anything else lands on the safe default', async () => {
    const website = await makeWebsite(h);
    const bad = [
      'https://evil.test',
      '//evil.test',
      '/\\evil.test',
      'javascript:alert(1)',
      '%2F%2Fevil.test',
      'https%3A%2F%2Fevil.test',
      '%2F%5Cevil.test',
      'javascript%3Aalert(1)',
      '%252F%252Fevil.test',
      '/%09/evil.test',
      'evil.test',
      '/..//evil.test',
      '/a/../../..//evil.test',
    ];
    for (const value of bad) {
      const member = await makeMember(h, { firstName: 'Ret', lastName: 'Urn' }, [website.id]);
      const b = new PortalClient(h);
      await b.get(`/portal/${website.slug}/signin?returnurl=${value}`);
      const res = await b.post(`/portal/${website.slug}/signin?returnurl=${value}`, {
        login: member.username,
        password: PASSWORD,
      });
      assert.equal(res.headers.location, `/portal/${website.slug}/`, value);
    }
    const member = await makeMember(h, {}, [website.id]);
    const b = new PortalClient(h);
    await b.get(`/portal/${website.slug}/signin?returnurl=%2Fp%2Fdocs`);
    const good = await b.post(`/portal/${website.slug}/signin?returnurl=%2Fp%2Fdocs`, {
      login: member.username,
      password: PASSWORD,
    });
    assert.equal(good.headers.location, `/portal/${website.slug}/p/docs`);
  });

  it('the Redirect Page applies after a redemption, not to every sign-in; then the profile when incomplete', async () => {
    const { website, invitation } = await makeSingle(h);
    ok(await h.api('PATCH', `/api/v1/websites/${website.id}`, { redirectPath: '/p/start' }));
    const member = await makeMember(h, {}, [website.id]);
    const b = new PortalClient(h);
    await b.get(`/portal/${website.slug}/signin?returnurl=%2Fp%2Fdocs`);
    const res = await b.post(`/portal/${website.slug}/signin?returnurl=%2Fp%2Fdocs`, {
      login: member.username,
      password: PASSWORD,
    });
    assert.equal(
      res.headers.location,
      `/portal/${website.slug}/p/docs`,
      'a plain sign-in keeps its returnurl',
    );
    ok(await h.api('PATCH', `/api/v1/invitations/${invitation.id}`, { invitedContactIds: [member.id] }));
    const c = new PortalClient(h);
    await land(c, website.slug, invitation.code, '%2Fp%2Fdocs');
    const confirm = await c.follow(await signInAs(c, website.slug, member.username));
    assert.match(textOf(confirm.body), /Redeem this invitation for/);
    const done = await c.post(`/portal/${website.slug}/redeem/confirm`, {});
    assert.equal(done.headers.location, `/portal/${website.slug}/p/start`, 'after the redemption');
    const incomplete = await makeMember(h, { firstName: 'Only' }, [website.id]);
    await h.deps.db.updateTable('contacts').set({ last_name: '' }).where('id', '=', incomplete.id).execute();
    const d = new PortalClient(h);
    const first = await signInAs(d, website.slug, incomplete.username);
    assert.equal(first.headers.location, `/portal/${website.slug}/profile`, 'an incomplete profile first');
  });

  it('sessions end after 30 idle minutes', async () => {
    const website = await makeWebsite(h);
    const member = await makeMember(h, {}, [website.id]);
    const b = new PortalClient(h);
    await signInAs(b, website.slug, member.username);
    assert.equal((await b.get(`/portal/${website.slug}/profile`)).statusCode, 200);
    h.advance(IDLE_MS + 1000);
    try {
      assert.equal((await b.get(`/portal/${website.slug}/profile`)).statusCode, 303);
    } finally {
      h.advance(-(IDLE_MS + 1000));
    }
  });

  it('forgot password: a link by email, used once, signs out everywhere; the old password stops working', async () => {
    const website = await makeWebsite(h);
    const member = await makeMember(h, {}, [website.id]);
    const elsewhere = new PortalClient(h);
    await signInAs(elsewhere, website.slug, member.username);
    const b = new PortalClient(h);
    await b.get(`/portal/${website.slug}/forgot-password`);
    const asked = await b.post(`/portal/${website.slug}/forgot-password`, { email: member.email });
    assert.match(textOf(asked.body), /Check your email/);
    await b.get(`/portal/${website.slug}/forgot-password`);
    const nobody = await b.post(`/portal/${website.slug}/forgot-password`, { email: 'nobody@example.test' });
    assert.equal(
      textOf(nobody.body).replace('nobody@example.test', member.email),
      textOf(asked.body),
      'the same answer',
    );
    const link = await outboxLink(h, member.email, 'reset-password');
    const form = await b.get(pathOf(link));
    assert.equal(form.statusCode, 200);
    const csrf = b.csrf();
    const token = new URL(link).searchParams.get('token') as string;
    const newPassword = 'a brand new passphrase 42';
    const done = await b.post(`/portal/${website.slug}/reset-password`, {
      token,
      password: newPassword,
      confirmPassword: newPassword,
    });
    assert.match(textOf(done.body), /Your password has been changed/);
    assert.equal(
      (await elsewhere.get(`/portal/${website.slug}/profile`)).statusCode,
      303,
      'signed out elsewhere',
    );
    assert.equal((await signInAs(new PortalClient(h), website.slug, member.username)).statusCode, 401);
    assert.equal(
      (await signInAs(new PortalClient(h), website.slug, member.username, newPassword)).statusCode,
      303,
    );
    const again = await b.post(
      `/portal/${website.slug}/reset-password`,
      { token, password: newPassword, confirmPassword: newPassword },
      { csrf },
    );
    assert.equal(again.statusCode, 410);
    const logs = h.logs();
    for (const secret of [
      token,
      newPassword,
      PASSWORD,
      b.session() ?? 'none',
      elsewhere.session() ?? 'none',
    ]) {
      assert.ok(!logs.includes(secret), 'no token, password or session id in the logs');
    }
    assert.match(logs, /reset-password\?token=\[redacted\]/);
  });

  it('web pages: public for anyone, others for signed-in contacts, role pages only with the role (a friendly 403)', async () => {
    const { website, role, invitation, contact } = await makeSingle(h);
    const page = (body: Json) => h.api('POST', `/api/v1/websites/${website.id}/web-pages`, body);
    ok(
      await page({
        path: 'about',
        title: 'About us',
        content: '<p>Hello {{ website.name }}</p>',
        public: true,
      }),
      201,
    );
    ok(await page({ path: 'members', title: 'Members', content: '<p>For members</p>' }), 201);
    ok(
      await page({
        path: 'partners/prices',
        title: 'Prices',
        content: '<p>Prices for {{ contact.firstName }}</p>',
        webRoleIds: [role.id],
      }),
      201,
    );
    const b = new PortalClient(h);
    assert.match(textOf((await b.get(`/portal/${website.slug}/p/about`)).body), /Hello Portal/);
    const members = await b.get(`/portal/${website.slug}/p/members`);
    assert.equal(members.headers.location, `/portal/${website.slug}/signin?returnurl=%2Fp%2Fmembers`);
    const outsider = await makeMember(h, {}, [website.id]);
    await signInAs(b, website.slug, outsider.username);
    assert.equal((await b.get(`/portal/${website.slug}/p/members`)).statusCode, 200);
    const denied = await b.get(`/portal/${website.slug}/p/partners/prices`);
    assert.equal(denied.statusCode, 403);
    assert.match(textOf(denied.body), /You do not have access to this page/);
    const invitee = new PortalClient(h);
    await land(invitee, website.slug, invitation.code);
    const registered = await invitee.post(`/portal/${website.slug}/register`, {
      email: contact.email,
      username: `inv_${contact.id.slice(-6)}`,
      password: PASSWORD,
      confirmPassword: PASSWORD,
    });
    assert.equal(registered.statusCode, 303, textOf(registered.body));
    const allowed = await invitee.get(`/portal/${website.slug}/p/partners/prices`);
    assert.equal(allowed.statusCode, 200);
    assert.match(textOf(allowed.body), new RegExp(`Prices for ${contact.firstName}`));
    const bad = await page({ path: 'Bad Path', title: 'x', content: '' });
    assert.equal(bad.statusCode, 400);
    const taken = await page({ path: 'about', title: 'Again', content: '' });
    assert.equal(taken.statusCode, 409);
  });
});

onBothDatabases('portal website settings', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('registrationEnabled off: no redeem or register pages; invitationEnabled off: no code lookups', async () => {
    const { website, invitation } = await makeSingle(h);
    ok(await h.api('PATCH', `/api/v1/websites/${website.id}`, { settings: { registrationEnabled: false } }));
    const b = new PortalClient(h);
    for (const path of ['/register', '/redeem', `/register?invitation=${invitation.code}`]) {
      assert.equal((await b.get(`/portal/${website.slug}${path}`)).statusCode, 404, path);
    }
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, {
        settings: { registrationEnabled: true, invitationEnabled: false },
      }),
    );
    assert.equal((await b.get(`/portal/${website.slug}/redeem`)).statusCode, 404);
    const landing = await b.get(`/portal/${website.slug}/register?invitation=${invitation.code}`, {
      follow: true,
    });
    assert.equal(landing.statusCode, 404, 'no open registration either');
  });

  it('open registration: the register page without a code creates a contact; off by default', async () => {
    const website = await makeWebsite(h);
    const b = new PortalClient(h);
    const closed = await b.get(`/portal/${website.slug}/register`);
    assert.equal(closed.headers.location, `/portal/${website.slug}/redeem`);
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, { settings: { openRegistrationEnabled: true } }),
    );
    const page = await b.get(`/portal/${website.slug}/register`);
    assert.equal(page.statusCode, 200);
    assert.match(textOf(page.body), /Create your .* account/);
    const res = await b.post(`/portal/${website.slug}/register`, {
      email: 'open.reg@example.test',
      username: `open_${Date.now()}`,
      password: PASSWORD,
      confirmPassword: PASSWORD,
    });
    assert.equal(res.headers.location, `/portal/${website.slug}/profile`);
  });

  it('localLoginByEmail: no username field; sign in with the email', async () => {
    const website = await makeWebsite(h, { settings: { localLoginByEmail: true } });
    const group = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 3 });
    const b = new PortalClient(h);
    const page = await land(b, website.slug, group.code);
    assert.ok(!page.body.includes('>Username</label>'));
    const email = `byemail.${Date.now()}@example.test`;
    const res = await b.post(`/portal/${website.slug}/register`, {
      email,
      password: PASSWORD,
      confirmPassword: PASSWORD,
    });
    assert.equal(res.statusCode, 303);
    const c = new PortalClient(h);
    const signin = await c.get(`/portal/${website.slug}/signin`);
    assert.match(signin.body, /<label for="login">Email<\/label>/);
    assert.equal(
      (await c.post(`/portal/${website.slug}/signin`, { login: email, password: PASSWORD })).statusCode,
      303,
    );
  });
});
