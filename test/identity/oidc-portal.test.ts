import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, it } from 'node:test';
import { hashPassword } from '../../src/passwords.ts';
import { seal } from '../../src/secret-box.ts';
import {
  type Json,
  makeContact,
  makeInvitation,
  makeWebRole,
  makeWebsite,
  ok,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { countRows, land, makeMember, PASSWORD, pathOf, registration, signInAs } from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';
import { TEST_CLIENT, TestIdp, type TestUser } from '../support/test-idp.ts';

/** The portal's sign-in with a real OpenID Provider on loopback (SPEC 5, external identity providers). */
onBothDatabases('portal: OpenID Connect at redemption, sign-in and the profile', (dialect) => {
  let h: Harness;
  let idp: TestIdp;
  const users: Record<string, TestUser> = {};
  // Each test gets a website of its own; the provider knows their callbacks from the start.
  const slugs = Array.from({ length: 40 }, () => `oidc-${rand()}`);
  before(async () => {
    h = await startHarness(dialect, {
      worker: true,
      env: {
        ADMIT_OIDC_ALLOW_HTTP: 'true',
        ADMIT_RATE_LIMIT_PER_IP: '100000',
        ADMIT_RATE_LIMIT_PER_CODE: '100000',
      },
    });
    idp = await new TestIdp(
      users,
      slugs.map((s) => `http://portal.test/portal/${s}/oidc/callback`),
    ).start();
  });
  after(async () => {
    await idp.stop();
    await h.close();
  });

  /** A website of the test's own with "Test IdP" (trusting its verified emails unless told). */
  async function site(body: Json = {}, provider: Json = {}) {
    const slug = slugs.pop() as string;
    const website = await makeWebsite(h, { slug, ...body });
    const p = ok<Json>(
      await h.api('POST', `/api/v1/websites/${website.id}/identity-providers`, {
        displayName: 'Test IdP',
        issuer: idp.issuer,
        clientId: TEST_CLIENT.id,
        clientSecret: TEST_CLIENT.secret,
        trustEmailVerified: true,
        ...provider,
      }),
      201,
    );
    return { website, provider: p, slug };
  }

  /** A person at the provider; returns their login (the subject). */
  function person(claims: TestUser = {}) {
    const login = `idp-${rand()}`;
    users[login] = {
      email: `${login}@example.test`,
      email_verified: true,
      given_name: 'Grace',
      family_name: 'Hopper',
      ...claims,
    };
    return login;
  }

  /**
   * Presses "Continue with …" (`label`) on the last page: a form's POST that answers a page sending
   * the browser on to the provider. Returns that answer and the provider's URL it names.
   */
  async function startFlow(b: PortalClient, label = 'Continue with Test IdP') {
    const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const action = new RegExp(
      `<form method="post" action="([^"]+)"><input type="hidden" name="_csrf" value="[^"]*"><button type="submit" class="provider">${escaped}</button>`,
    ).exec(b.last?.body ?? '')?.[1];
    assert.ok(action, `the page offers "${label}": ${textOf(b.last?.body ?? '')}`);
    const res = await b.post(action.replace(/&amp;/g, '&'), {});
    const url = (/<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(res.body)?.[1] ?? '').replace(
      /&amp;/g,
      '&',
    );
    return { res, url };
  }

  /** Presses "Continue with Test IdP" on the last page, signs in at the provider, and comes back. */
  async function continueWith(b: PortalClient, login: string, options: { abort?: boolean } = {}) {
    const start = await startFlow(b);
    assert.equal(start.res.statusCode, 200, start.res.body);
    assert.ok(start.url.startsWith(idp.issuer), start.res.body);
    const back = await idp.signIn(start.url, login, options);
    return b.get(pathOf(back));
  }

  const contactOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/contacts/${id}`));
  const invitationOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/invitations/${id}`));
  const redemptionsOf = async (id: string) =>
    ok<{ items: Json[] }>(await h.api('GET', `/api/v1/invitations/${id}/redemptions`)).items;
  const eventsOf = async (type: string, match: (data: Json) => boolean) =>
    (await h.deps.db.selectFrom('events').select(['type', 'data']).where('type', '=', type).execute())
      .map((e) => (typeof e.data === 'string' ? JSON.parse(e.data) : e.data) as Json)
      .filter(match);

  it('Single: the invitee continues with the provider and redeems; roles, account and the link on the profile', async () => {
    const { website, provider, slug } = await site();
    const role = await makeWebRole(h, website.id);
    const account = ok<Json>(await h.api('POST', '/api/v1/accounts', { name: `Contoso ${rand()}` }), 201);
    const login = person();
    const contact = await makeContact(h, { email: users[login]?.email });
    const invitation = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [contact.id],
      webRoleIds: [role.id],
      assignToAccountId: account.id,
    });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const anonymous = b.session();
    const back = await continueWith(b, login);
    assert.equal(back.statusCode, 303, textOf(back.body));
    assert.notEqual(b.session(), anonymous, 'a new session id once signed in');
    const profile = await b.get(`/portal/${slug}/profile`);
    const text = textOf(profile.body);
    assert.match(text, new RegExp(`Account ${account.name}`));
    assert.match(text, new RegExp(`Web roles ${role.name}`));
    assert.match(text, /Sign-in with other accounts Test IdP/);

    const after = await contactOf(contact.id);
    assert.equal(after.loginEnabled, true);
    assert.equal(after.emailConfirmed, true, 'the provider confirmed the address the invitation went to');
    assert.deepEqual(
      after.externalLogins.map((l: Json) => [l.provider, l.providerId, l.subject, l.email]),
      [['Test IdP', provider.id, login, users[login]?.email]],
    );
    const [r] = await redemptionsOf(invitation.id);
    assert.equal(r?.method, 'external');
    assert.equal(r?.identityProviderId, provider.id);
    assert.equal(r?.contactId, contact.id);
    assert.equal((await invitationOf(invitation.id)).status, 'redeemed');
    const [redeemed] = await eventsOf('invitation.redeemed', (d) => d.invitationId === invitation.id);
    assert.equal(redeemed?.method, 'external');
    assert.equal(redeemed?.identityProviderId, provider.id);
    const [registered] = await eventsOf('contact.registered', (d) => d.contactId === contact.id);
    assert.equal(registered?.method, 'external');
    assert.equal(registered?.identityProviderId, provider.id);
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=contact&entityId=${contact.id}&limit=50`),
    ).items as Json[];
    const byProvider = audit.find((a) => a.action === 'contact.registered');
    assert.equal(byProvider?.data?.method, 'external', JSON.stringify(byProvider));
    assert.equal(byProvider?.data?.identityProviderId, provider.id);

    // Signed out, the provider signs the contact in again.
    assert.equal((await b.post(`/portal/${slug}/signout`, {})).statusCode, 303);
    assert.equal((await b.get(`/portal/${slug}/profile`)).statusCode, 303, 'signed out');
    await b.get(`/portal/${slug}/signin`);
    const again = await continueWith(b, login);
    assert.equal(again.statusCode, 303, textOf(again.body));
    assert.match(textOf((await b.get(`/portal/${slug}/`)).body), new RegExp(`Welcome, ${contact.firstName}`));
  });

  /** What a refusal must leave behind: no redemption, no link, and the browser not signed in. */
  async function nothingLinked(
    b: PortalClient,
    slug: string,
    invitationId: string | null,
    contactId: string | null,
  ) {
    if (invitationId) assert.equal((await invitationOf(invitationId)).redemptionCount, 0, 'nothing redeemed');
    if (contactId) assert.deepEqual((await contactOf(contactId)).externalLogins, [], 'nothing linked');
    const profile = await b.get(`/portal/${slug}/profile`);
    assert.equal(profile.statusCode, 303, 'not signed in');
  }

  it('Single: another verified address at the provider is refused, naming neither address in full', async () => {
    const { website, slug } = await site();
    const contact = await makeContact(h, { email: `invitee.${rand()}@contoso.test` });
    const invitation = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [contact.id],
    });
    const login = person({ email: `someone.${rand()}@fabrikam.test` });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const res = await continueWith(b, login);
    assert.equal(res.statusCode, 403);
    const text = textOf(res.body);
    assert.match(text, /This invitation was sent to another address/);
    assert.match(text, /sent to i•••@contoso\.test, and Test IdP confirmed s•••@fabrikam\.test instead/);
    assert.ok(!text.includes(contact.email) && !text.includes(users[login]?.email as string));
    await nothingLinked(b, slug, invitation.id, contact.id);
    assert.equal((await contactOf(contact.id)).loginEnabled, false);
  });

  it('Single: an address the provider did not verify, or a provider whose verification is not trusted, proves nothing', async () => {
    for (const [provider, claims] of [
      [{}, { email_verified: false }],
      [{ trustEmailVerified: false }, {}],
    ] as [Json, TestUser][]) {
      const { website, slug } = await site({}, provider);
      const login = person(claims);
      const contact = await makeContact(h, { email: users[login]?.email });
      const invitation = await makeInvitation(h, {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
      });
      const b = new PortalClient(h);
      await land(b, slug, invitation.code);
      const res = await continueWith(b, login);
      assert.equal(res.statusCode, 403, JSON.stringify(provider));
      assert.match(textOf(res.body), /Test IdP did not confirm an email address/);
      await nothingLinked(b, slug, invitation.id, contact.id);
    }
  });

  it('Group: a verified address of an invited contact redeems as that contact; another address makes a new contact', async () => {
    const { website, provider, slug } = await site();
    const role = await makeWebRole(h, website.id);
    const invitedLogin = person();
    const invited = await makeContact(h, { email: users[invitedLogin]?.email });
    const invitation = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 5,
      invitedContactIds: [invited.id],
      webRoleIds: [role.id],
    });
    const a = new PortalClient(h);
    await land(a, slug, invitation.code);
    const contacts = await countRows(h, 'contacts');
    assert.equal((await continueWith(a, invitedLogin)).statusCode, 303);
    assert.equal(await countRows(h, 'contacts'), contacts, 'the invited contact, no duplicate');
    const c = await contactOf(invited.id);
    assert.equal(c.loginEnabled, true);
    assert.deepEqual(c.webRoleIds, [role.id]);
    assert.equal(c.externalLogins[0]?.subject, invitedLogin);

    const newcomer = person({ given_name: 'Katherine', family_name: 'Johnson' });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    assert.equal((await continueWith(b, newcomer)).statusCode, 303);
    assert.equal(await countRows(h, 'contacts'), contacts + 1, 'a new contact');
    const [, second] = await redemptionsOf(invitation.id).then((rs) =>
      rs.sort((x, y) => (x.createdAt < y.createdAt ? -1 : 1)),
    );
    const made = await contactOf(second?.contactId);
    assert.equal(made.email, users[newcomer]?.email);
    assert.equal(made.emailConfirmed, true);
    assert.equal(made.firstName, 'Katherine');
    assert.equal(made.lastName, 'Johnson');
    assert.deepEqual(made.webRoleIds, [role.id]);
    assert.equal(made.externalLogins[0]?.providerId, provider.id);
    assert.equal(second?.method, 'external');
    assert.match(
      textOf((await b.get(`/portal/${slug}/profile`)).body),
      /Sign-in with other accounts Test IdP/,
    );
    const [registered] = await eventsOf('contact.registered', (d) => d.contactId === made.id);
    assert.equal(registered?.method, 'external');
  });

  it('Group for invited contacts only: an address that is none of theirs is refused', async () => {
    const { website, slug } = await site();
    const invited = await makeContact(h);
    const invitation = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 5,
      invitedContactIds: [invited.id],
      invitedContactsOnly: true,
    });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const contacts = await countRows(h, 'contacts');
    const res = await continueWith(b, person());
    assert.equal(res.statusCode, 409);
    assert.match(textOf(res.body), /This invitation is for the people it was sent to/);
    assert.equal(await countRows(h, 'contacts'), contacts);
    await nothingLinked(b, slug, invitation.id, invited.id);
  });

  it("a provider's email never signs in or links an existing contact by itself; the contact links it while signed in", async () => {
    const { website, provider, slug } = await site();
    const member = await makeMember(h, {}, [website.id]);
    const login = person({ email: member.email });
    // The same address at the provider, without a link: no sign-in.
    const stranger = new PortalClient(h);
    await stranger.get(`/portal/${slug}/signin`);
    const refused = await continueWith(stranger, login);
    assert.equal(refused.statusCode, 401);
    assert.match(textOf(refused.body), /No account here is linked to this Test IdP account/);
    await nothingLinked(stranger, slug, null, member.id);

    // Signed in, the contact links the provider from the profile.
    const b = new PortalClient(h);
    await b.follow(await signInAs(b, slug, member.username));
    const profile = await b.get(`/portal/${slug}/profile`);
    assert.match(textOf(profile.body), /No other account is linked/);
    const go = await b.post(`/portal/${slug}/profile/external-logins`, { provider: provider.id });
    assert.equal(go.statusCode, 200);
    assert.match(textOf(go.body), /Taking you to Test IdP/);
    const url = /<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(go.body)?.[1];
    assert.ok(url?.startsWith(idp.issuer), go.body);
    const back = await b.get(pathOf(await idp.signIn((url as string).replace(/&amp;/g, '&'), login)));
    assert.equal(back.statusCode, 303);
    assert.equal(back.headers.location, `/portal/${slug}/profile`);
    const linked = await b.get(`/portal/${slug}/profile`);
    assert.match(textOf(linked.body), /Sign-in with other accounts Test IdP/);
    assert.ok(!/>Link Test IdP</.test(linked.body), 'no second link offered');
    assert.deepEqual(
      (await contactOf(member.id)).externalLogins.map((l: Json) => l.subject),
      [login],
    );

    // Now the provider signs the contact in.
    const c = new PortalClient(h);
    await c.get(`/portal/${slug}/signin`);
    assert.equal((await continueWith(c, login)).statusCode, 303);
    assert.match(textOf((await c.get(`/portal/${slug}/profile`)).body), new RegExp(member.email));

    // The same provider account cannot be linked to a second contact.
    const other = await makeMember(h, {}, [website.id]);
    const d = new PortalClient(h);
    await d.follow(await signInAs(d, slug, other.username));
    await d.get(`/portal/${slug}/profile`);
    const again = await d.post(`/portal/${slug}/profile/external-logins`, { provider: provider.id });
    const url2 = /content="0;url=([^"]+)"/.exec(again.body)?.[1] as string;
    const taken = await d.get(pathOf(await idp.signIn(url2.replace(/&amp;/g, '&'), login)));
    assert.equal(taken.statusCode, 409);
    assert.match(textOf(taken.body), /This Test IdP account belongs to another account/);
    assert.deepEqual((await contactOf(other.id)).externalLogins, []);

    // Unlinking: the password remains, so the link may go.
    await b.get(`/portal/${slug}/profile`);
    const loginId = (await contactOf(member.id)).externalLogins[0]?.id;
    const unlinked = await b.post(`/portal/${slug}/profile/external-logins/${loginId}/delete`, {});
    assert.equal(unlinked.statusCode, 303);
    assert.deepEqual((await contactOf(member.id)).externalLogins, []);
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=contact&entityId=${member.id}&limit=50`),
    ).items as Json[];
    assert.deepEqual(
      audit
        .filter((a) => a.action.startsWith('contact.external_login'))
        .map((a) => [a.action, a.data.identityProviderId]),
      [
        ['contact.external_login_unlinked', provider.id],
        ['contact.external_login_linked', provider.id],
      ],
    );
  });

  it('a provider address that belongs to an account sends the invitee to sign in (or to existingUserPath), nothing linked', async () => {
    for (const existingUserPath of [null, '/welcome-back']) {
      const { website, slug } = await site();
      if (existingUserPath) ok(await h.api('PATCH', `/api/v1/websites/${website.id}`, { existingUserPath }));
      const member = await makeMember(h, {}, [website.id]);
      const login = person({ email: member.email });
      // A Group invitation that does not name the member: the address belongs to an account.
      const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
      const b = new PortalClient(h);
      await land(b, slug, invitation.code);
      const res = await continueWith(b, login);
      if (existingUserPath) {
        assert.equal(res.statusCode, 303);
        assert.equal(res.headers.location, `/portal/${slug}/welcome-back`);
      } else {
        assert.equal(res.statusCode, 409);
        assert.match(textOf(res.body), /You already have an account/);
      }
      await nothingLinked(b, slug, invitation.id, member.id);
    }
  });

  it('a contact the provider is linked to confirms a pending invitation as after a password sign-in, never stuck', async () => {
    const { website, slug } = await site();
    const role = await makeWebRole(h, website.id);
    const login = person();
    const first = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, first.code);
    assert.equal((await continueWith(b, login)).statusCode, 303);
    const contactId = (await redemptionsOf(first.id))[0]?.contactId;

    // The same invitation again, signed out: signed in, and told it is already redeemed.
    await b.get(`/portal/${slug}/profile`);
    assert.equal((await b.post(`/portal/${slug}/signout`, {})).statusCode, 303);
    await land(b, slug, first.code);
    const again = await continueWith(b, login);
    assert.equal(again.statusCode, 303);
    assert.match(again.headers.location as string, new RegExp(`^/portal/${slug}/redeem/confirm`));
    const page = await b.get(again.headers.location as string);
    assert.ok(page.statusCode < 500);
    assert.equal((await b.get(`/portal/${slug}/profile`)).statusCode, 200, 'signed in');
    assert.equal((await invitationOf(first.id)).redemptionCount, 1);

    // Another invitation: "Redeem this invitation for …?", then it is redeemed as that contact.
    const second = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 5,
      webRoleIds: [role.id],
    });
    await b.get(`/portal/${slug}/profile`);
    assert.equal((await b.post(`/portal/${slug}/signout`, {})).statusCode, 303);
    await land(b, slug, second.code);
    const confirm = await b.follow(await continueWith(b, login));
    assert.match(textOf(confirm.body), /Redeem/);
    assert.equal((await invitationOf(second.id)).redemptionCount, 0, 'nothing before the confirmation');
    const done = await b.post(`/portal/${slug}/redeem/confirm`, {});
    assert.equal(done.statusCode, 303);
    const [r] = await redemptionsOf(second.id);
    assert.equal(r?.contactId, contactId);
    assert.deepEqual((await contactOf(contactId)).webRoleIds, [role.id]);
  });

  it('switching off invitations or external sign-in stops a flow already at the provider', async () => {
    for (const settings of [
      { invitationEnabled: false },
      { registrationEnabled: false },
      { externalLoginEnabled: false },
    ]) {
      const { website, slug } = await site();
      const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
      const b = new PortalClient(h);
      await land(b, slug, invitation.code);
      const start = await startFlow(b);
      const back = await idp.signIn(start.url, person());
      ok(await h.api('PATCH', `/api/v1/websites/${website.id}`, { settings }));
      const res = await b.get(pathOf(back));
      assert.ok(
        res.statusCode >= 400 && res.statusCode < 500,
        `${JSON.stringify(settings)}: ${res.statusCode}`,
      );
      await nothingLinked(b, slug, invitation.id, null);
    }
  });

  it('a contact who signs in elsewhere, invited here, proves the invited address with the provider, confirms, and is linked', async () => {
    const a = await site();
    const b = await site({ settings: { localLoginEnabled: false } });
    const role = await makeWebRole(h, b.website.id);
    const login = person();
    const onA = await makeInvitation(h, { type: 'group', websiteId: a.website.id, maxRedemptions: 5 });
    const ba = new PortalClient(h);
    await land(ba, a.slug, onA.code);
    assert.equal((await continueWith(ba, login)).statusCode, 303);
    const contactId = (await redemptionsOf(onA.id))[0]?.contactId as string;
    const onB = await makeInvitation(h, {
      type: 'single',
      websiteId: b.website.id,
      invitedContactIds: [contactId],
      webRoleIds: [role.id],
    });
    const bb = new PortalClient(h);
    await land(bb, b.slug, onB.code);
    const back = await continueWith(bb, login);
    assert.equal(back.statusCode, 303, textOf(back.body));
    assert.match(back.headers.location as string, new RegExp(`^/portal/${b.slug}/redeem/confirm`));
    assert.equal((await invitationOf(onB.id)).redemptionCount, 0, 'not before the confirmation');
    assert.equal((await contactOf(contactId)).externalLogins.length, 1, 'not linked before the confirmation');
    const confirm = await bb.get(back.headers.location as string);
    assert.match(textOf(confirm.body), /Redeem/);
    assert.equal((await bb.post(`/portal/${b.slug}/redeem/confirm`, {})).statusCode, 303);
    const [r] = await redemptionsOf(onB.id);
    assert.equal(r?.contactId, contactId);
    assert.equal(r?.method, 'external');
    assert.equal(r?.identityProviderId, b.provider.id);
    const after = await contactOf(contactId);
    assert.deepEqual(after.webRoleIds, [role.id]);
    assert.deepEqual(
      after.externalLogins.map((l: Json) => l.providerId).sort(),
      [a.provider.id, b.provider.id].sort(),
    );
    // From now on the provider signs the contact in on B too.
    const again = new PortalClient(h);
    await again.get(`/portal/${b.slug}/signin`);
    assert.equal((await continueWith(again, login)).statusCode, 303);
    assert.equal((await again.get(`/portal/${b.slug}/profile`)).statusCode, 200);
  });

  it('never leaves a contact without a way to sign in: the only link cannot be removed', async () => {
    const { website, slug } = await site();
    const login = person();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    assert.equal((await continueWith(b, login)).statusCode, 303);
    const [r] = await redemptionsOf(invitation.id);
    const contact = await contactOf(r?.contactId);
    await b.get(`/portal/${slug}/profile`);
    const res = await b.post(
      `/portal/${slug}/profile/external-logins/${contact.externalLogins[0]?.id}/delete`,
      {},
    );
    assert.equal(res.statusCode, 409);
    assert.match(textOf(res.body), /This is your only way to sign in/);
    assert.equal((await contactOf(contact.id)).externalLogins.length, 1);
  });

  it("unlinking is per website: another website's login stays, and the last way in here stays", async () => {
    const a = await site();
    const b = await site();
    const login = person();
    const onA = await makeInvitation(h, { type: 'group', websiteId: a.website.id, maxRedemptions: 5 });
    const ba = new PortalClient(h);
    await land(ba, a.slug, onA.code);
    assert.equal((await continueWith(ba, login)).statusCode, 303);
    const contactId = (await redemptionsOf(onA.id))[0]?.contactId as string;
    const [loginOnA] = (await contactOf(contactId)).externalLogins as Json[];
    // The same contact, with a password and access to B, signs in on B.
    const username = `both_${rand()}`;
    ok(await h.api('PATCH', `/api/v1/contacts/${contactId}`, { username }));
    await h.deps.db
      .updateTable('contacts')
      .set({ password_hash: await hashPassword(PASSWORD) })
      .where('id', '=', contactId)
      .execute();
    ok(await h.api('POST', `/api/v1/contacts/${contactId}/websites`, { websiteId: b.website.id }), 201);
    const bb = new PortalClient(h);
    assert.equal((await signInAs(bb, b.slug, username)).statusCode, 303);
    await bb.get(`/portal/${b.slug}/profile`);
    await bb.post(`/portal/${b.slug}/profile/external-logins/${loginOnA?.id}/delete`, {});
    assert.equal((await contactOf(contactId)).externalLogins.length, 1, "A's login cannot be removed from B");

    // On an external-only website, a password the website does not take is no way in.
    ok(await h.api('PATCH', `/api/v1/websites/${a.website.id}`, { settings: { localLoginEnabled: false } }));
    await ba.get(`/portal/${a.slug}/profile`);
    const last = await ba.post(`/portal/${a.slug}/profile/external-logins/${loginOnA?.id}/delete`, {});
    assert.equal(last.statusCode, 409);
    assert.doesNotMatch(textOf(last.body), /Forgot your password/);
    assert.equal((await contactOf(contactId)).externalLogins.length, 1);
  });

  it('an administrator unlinks a provider from a contact, and can then remove the provider', async () => {
    const { website, provider, slug } = await site();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    assert.equal((await continueWith(b, person())).statusCode, 303);
    const contactId = (await redemptionsOf(invitation.id))[0]?.contactId as string;
    const [login] = (await contactOf(contactId)).externalLogins as Json[];
    const inUse = await h.api('DELETE', `/api/v1/identity-providers/${provider.id}`);
    assert.equal(inUse.statusCode, 409);
    assert.match(inUse.body, /external-logins/);
    const missing = '01900000-0000-7000-8000-000000000000';
    assert.equal(
      (await h.api('DELETE', `/api/v1/contacts/${contactId}/external-logins/${missing}`)).statusCode,
      404,
    );
    assert.equal(
      (await h.api('DELETE', `/api/v1/contacts/${contactId}/external-logins/${login?.id}`)).statusCode,
      204,
    );
    assert.deepEqual((await contactOf(contactId)).externalLogins, []);
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=contact&entityId=${contactId}&limit=50`),
    ).items as Json[];
    const unlinked = audit.find((a) => a.action === 'contact.external_login_unlinked');
    assert.equal(unlinked?.actor.type, 'user');
    assert.equal(unlinked?.data.identityProviderId, provider.id);
    assert.equal((await h.api('DELETE', `/api/v1/identity-providers/${provider.id}`)).statusCode, 204);
  });

  it('a flow not finished within 10 minutes is refused at its callback', async () => {
    const { website, slug } = await site();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const start = await startFlow(b);
    const back = await idp.signIn(start.url, person());
    h.advance(11 * 60_000);
    try {
      const late = await b.get(pathOf(back));
      assert.equal(late.statusCode, 400);
      assert.match(textOf(late.body), /This sign-in did not start here/);
    } finally {
      h.advance(-11 * 60_000);
    }
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 0);
  });

  it('the same address at two providers is two identities until the contact links both', async () => {
    const { website, slug } = await site();
    ok<Json>(
      await h.api('POST', `/api/v1/websites/${website.id}/identity-providers`, {
        displayName: 'Second IdP',
        issuer: idp.issuer,
        clientId: TEST_CLIENT.id,
        clientSecret: TEST_CLIENT.secret,
        trustEmailVerified: true,
      }),
      201,
    );
    const login = person();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    assert.equal((await continueWith(b, login)).statusCode, 303);
    const contactId = (await redemptionsOf(invitation.id))[0]?.contactId;

    const c = new PortalClient(h);
    await c.get(`/portal/${slug}/signin`);
    const start = await startFlow(c, 'Continue with Second IdP');
    const res = await c.get(pathOf(await idp.signIn(start.url, login)));
    assert.equal(res.statusCode, 401, 'the second provider is not linked, whatever its email says');
    assert.deepEqual(
      (await contactOf(contactId)).externalLogins.map((l: Json) => l.provider),
      ['Test IdP'],
    );
  });

  it('another site cannot start a flow in this browser: the start is a POST with the CSRF token', async () => {
    const { website, provider, slug } = await site();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const get = await b.get(`/portal/${slug}/oidc/${provider.id}/start`);
    assert.ok(get.statusCode === 404 || get.statusCode === 405, `a GET starts nothing: ${get.statusCode}`);
    const flows = async () =>
      (await h.deps.db.selectFrom('sessions').select('data').execute()).filter((r) =>
        JSON.stringify(r.data).includes('"oidc"'),
      ).length;
    const before = await flows();
    const forged = await b.post(`/portal/${slug}/oidc/${provider.id}/start`, {}, { csrf: null });
    assert.equal(forged.statusCode, 403);
    assert.ok(!forged.body.includes(idp.issuer), 'no way to the provider');
    assert.equal(await flows(), before, 'no flow was remembered');
  });

  it('refuses a callback that does not belong to the flow of this browser: state, replay, a forwarded link', async () => {
    const { website, slug } = await site();
    const login = person();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const start = await startFlow(b);
    const back = new URL(await idp.signIn(start.url, login));

    // Forwarded to another browser: that browser started no flow.
    const other = new PortalClient(h);
    await land(other, slug, invitation.code);
    const forwarded = await other.get(pathOf(back.href));
    assert.equal(forwarded.statusCode, 400);
    assert.match(textOf(forwarded.body), /This sign-in did not start here/);

    // Another state: refused, and the flow is spent.
    const wrong = new URL(back.href);
    wrong.searchParams.set('state', 'not-the-state');
    const refused = await b.get(pathOf(wrong.href));
    assert.equal(refused.statusCode, 400);
    assert.match(textOf(refused.body), /This sign-in did not start here/);
    const late = await b.get(pathOf(back.href));
    assert.equal(late.statusCode, 400, 'the flow was used once');
    await nothingLinked(b, slug, invitation.id, null);

    // A flow that succeeds cannot be replayed.
    await land(b, slug, invitation.code);
    const start2 = await startFlow(b);
    const back2 = await idp.signIn(start2.url, login);
    assert.equal((await b.get(pathOf(back2))).statusCode, 303);
    const replay = await b.get(pathOf(back2));
    assert.equal(replay.statusCode, 400);
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 1);
  });

  it('refuses an ID token that does not validate: wrong nonce, issuer, audience, signature, or expired', async () => {
    const { website, slug } = await site();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 9 });
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, ((claims: Json) => Json) | 'nonce', RegExp, boolean?][] = [
      ['a wrong nonce', 'nonce', /nonce/],
      ['a replayed nonce', (c) => ({ ...c, nonce: 'a-nonce-of-an-earlier-flow' }), /nonce/],
      ['another issuer', (c) => ({ ...c, iss: 'https://evil.example' }), /issuer/],
      ['another audience', (c) => ({ ...c, aud: 'another-client' }), /audience/],
      ['an expired token', (c) => ({ ...c, iat: now - 7200, exp: now - 3600 }), /exp/],
      ['a signature by another key', (c) => c, /signature|key/i, true],
    ];
    for (const [name, change, because, otherKey] of cases) {
      const login = person();
      const b = new PortalClient(h);
      await land(b, slug, invitation.code);
      const start = await startFlow(b);
      if (change === 'nonce') {
        const state = new URL(start.url).searchParams.get('state');
        const rows = await h.deps.db.selectFrom('sessions').select(['id', 'data']).execute();
        for (const row of rows) {
          const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Json;
          if (data?.oidc?.state !== state) continue;
          data.oidc.nonce = 'not-the-nonce-sent';
          await h.deps.db
            .updateTable('sessions')
            .set({ data: JSON.stringify(data) })
            .where('id', '=', row.id)
            .execute();
        }
      } else {
        idp.tamper = {
          claims: change,
          key: otherKey ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : undefined,
        };
      }
      let res: Awaited<ReturnType<PortalClient['get']>>;
      try {
        res = await b.get(pathOf(await idp.signIn(start.url, login)));
      } finally {
        idp.tamper = null;
      }
      assert.equal(res.statusCode, 400, `${name}: ${textOf(res.body)}`);
      assert.match(textOf(res.body), /Sign-in with Test IdP did not complete/, name);
      assert.match(textOf(res.body), /could not be verified/, name);
      const logged = h
        .logs()
        .split('\n')
        .filter((l) => l.includes('sign-in refused'))
        .at(-1);
      assert.match(logged ?? '', because, `${name}: the log says why`);
      await nothingLinked(b, slug, invitation.id, null);
    }
  });

  it("the provider's error answer (the person cancels) is a friendly page, and nothing happens", async () => {
    const { website, slug } = await site();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const res = await continueWith(b, person(), { abort: true });
    assert.equal(res.statusCode, 400);
    assert.match(textOf(res.body), /Test IdP did not sign you in \(it may have been cancelled\)/);
    await nothingLinked(b, slug, invitation.id, null);
  });

  it('a provider that cannot be reached, or whose discovery names another issuer, is unavailable; local sign-in still works', async () => {
    const closed = await new TestIdp({}, []).start();
    const gone = closed.issuer;
    await closed.stop();
    for (const issuer of [gone, idp.issuer.replace('127.0.0.1', 'localhost')]) {
      const { website, slug } = await site({}, { issuer });
      const member = await makeMember(h, {}, [website.id]);
      const b = new PortalClient(h);
      await b.get(`/portal/${slug}/signin`);
      const { res } = await startFlow(b);
      assert.equal(res.statusCode, 503, issuer);
      assert.match(textOf(res.body), /Sign-in with Test IdP is unavailable/);
      assert.match(textOf(res.body), /or sign in with your username and password/);
      const signedIn = await signInAs(b, slug, member.username);
      assert.equal(signedIn.statusCode, 303, 'local sign-in still works');
    }
  });

  it('a client secret that no longer opens (ADMIT_SECRET changed) makes the provider unavailable, and the log says why', async () => {
    const { provider, slug } = await site();
    // Sealed under another server key, as after ADMIT_SECRET changed.
    const other = Buffer.alloc(32, 7);
    await h.deps.db
      .updateTable('identity_providers')
      .set({ client_secret: seal(other, TEST_CLIENT.secret, provider.id) })
      .where('id', '=', provider.id)
      .execute();
    const b = new PortalClient(h);
    await b.get(`/portal/${slug}/signin`);
    const { res } = await startFlow(b);
    assert.equal(res.statusCode, 503);
    assert.match(textOf(res.body), /Sign-in with Test IdP is unavailable/);
    assert.match(h.logs(), /does not open under this ADMIT_SECRET/);
  });

  it('an external-only website shows the providers and no password form; with external login off, no provider', async () => {
    const only = await site({ settings: { localLoginEnabled: false } });
    const invitation = await makeInvitation(h, {
      type: 'group',
      websiteId: only.website.id,
      maxRedemptions: 5,
    });
    const b = new PortalClient(h);
    const page = await land(b, only.slug, invitation.code);
    assert.equal(page.statusCode, 200);
    assert.ok(!page.body.includes('name="password"'), 'no password form');
    assert.match(textOf(page.body), /Continue with Test IdP/);
    const signin = await b.get(`/portal/${only.slug}/signin`);
    assert.ok(!signin.body.includes('name="password"'));
    assert.match(textOf(signin.body), /Continue with Test IdP/);
    assert.equal((await continueWith(b, person())).statusCode, 303);

    const off = await site({ settings: { externalLoginEnabled: false } });
    const c = new PortalClient(h);
    const signin2 = await c.get(`/portal/${off.slug}/signin`);
    assert.ok(!signin2.body.includes('Continue with'));
    assert.equal((await c.post(`/portal/${off.slug}/oidc/${off.provider.id}/start`, {})).statusCode, 404);
  });

  it('a password registration racing a provider callback for the same invitation: one contact, one redemption, one link', async () => {
    for (const type of ['single', 'group'] as const) {
      const { website, slug } = await site();
      const login = person();
      const contact = await makeContact(h, { email: users[login]?.email });
      const invitation = await makeInvitation(h, {
        type,
        websiteId: website.id,
        invitedContactIds: [contact.id],
        ...(type === 'group' ? { maxRedemptions: 1 } : {}),
      });
      const viaIdp = new PortalClient(h);
      await land(viaIdp, slug, invitation.code);
      const start = await startFlow(viaIdp);
      const back = await idp.signIn(start.url, login);
      const viaForm = new PortalClient(h, '10.0.0.2');
      await land(viaForm, slug, invitation.code);
      const contacts = await countRows(h, 'contacts');
      const [a, f] = await Promise.all([
        viaIdp.get(pathOf(back)),
        viaForm.post(`/portal/${slug}/register`, registration(contact.email)),
      ]);
      const won = [a.statusCode, f.statusCode].filter((s) => s === 303).length;
      assert.equal(won, 1, `${type}: exactly one wins (${a.statusCode}, ${f.statusCode})`);
      assert.ok(a.statusCode < 500 && f.statusCode < 500);
      assert.equal((await invitationOf(invitation.id)).redemptionCount, 1);
      assert.equal(await countRows(h, 'contacts'), contacts, `${type}: one contact, the invited one`);
      const logins = (await contactOf(contact.id)).externalLogins.length;
      assert.equal(logins, a.statusCode === 303 ? 1 : 0, `${type}: a link only if the provider won`);
    }
  });

  it("the provider's client secret and the authorization code never appear in a response or a log", async () => {
    const { website, provider, slug } = await site();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const b = new PortalClient(h);
    await land(b, slug, invitation.code);
    const start = await startFlow(b);
    const back = await idp.signIn(start.url, person());
    const code = new URL(back).searchParams.get('code') as string;
    const done = await b.get(pathOf(back));
    const bodies = [
      start.res.body,
      done.body,
      (await h.api('GET', `/api/v1/identity-providers/${provider.id}`)).body,
      (await h.api('GET', `/api/v1/websites/${website.id}/identity-providers`)).body,
      (await h.api('GET', `/api/v1/audit-events?limit=200`)).body,
      h.logs(),
    ];
    for (const text of bodies) {
      assert.ok(!text.includes(TEST_CLIENT.secret), 'no client secret');
      assert.ok(!text.includes(code), 'no authorization code');
    }
    const row = await h.deps.db
      .selectFrom('identity_providers')
      .select('client_secret')
      .where('id', '=', provider.id)
      .executeTakeFirstOrThrow();
    assert.ok(!row.client_secret.includes(TEST_CLIENT.secret), 'stored sealed');
  });

  it("hostile claims: a subject with control characters is refused; an address the portal's forms refuse proves nothing", async () => {
    const { website, slug } = await site();
    const invitation = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 9 });
    const nul = `idp-${rand()}\u0000x`;
    users[nul] = { email: `nul.${rand()}@example.test`, email_verified: true };
    const a = new PortalClient(h);
    await land(a, slug, invitation.code);
    const refused = await continueWith(a, nul);
    assert.equal(refused.statusCode, 400);
    assert.match(textOf(refused.body), /could not be verified/);
    for (const email of [
      `victim.${rand()}@example.test,x@attacker.test`,
      `rtl\u202e.${rand()}@example.test`,
      `nul\u0000.${rand()}@example.test`,
      '<img/src=x>@example.test',
    ]) {
      const contact = await makeContact(h);
      const single = await makeInvitation(h, {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
      });
      const b = new PortalClient(h);
      await land(b, slug, single.code);
      const res = await continueWith(b, person({ email }));
      assert.equal(res.statusCode, 403, email);
      assert.match(textOf(res.body), /did not confirm an email address/);
      await nothingLinked(b, slug, single.id, contact.id);
    }
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 0);
  });

  it('hostile input at the flow routes is a 4xx page, never a 500, and changes nothing', async () => {
    const { provider, slug } = await site();
    const b = new PortalClient(h);
    await b.get(`/portal/${slug}/signin`);
    for (const id of ['not-an-id', '%00', 'x'.repeat(3000), provider.id.toUpperCase(), "1'or'1"]) {
      const res = await b.post(`/portal/${slug}/oidc/${id}/start`, {}, { csrf: b.csrf() });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${id.slice(0, 20)}: ${res.statusCode}`);
    }
    for (const query of [
      '',
      '?state=a&state=b&code=c',
      '?error=access_denied&error_description=%3Cscript%3E',
      '?code[]=1',
    ])
      assert.equal((await b.get(`/portal/${slug}/oidc/callback${query}`)).statusCode, 400, query);
    const member = await makeMember(h, {}, [
      (await h.api('GET', `/api/v1/identity-providers/${provider.id}`)).json().websiteId,
    ]);
    await b.follow(await signInAs(b, slug, member.username));
    await b.get(`/portal/${slug}/profile`);
    assert.equal(
      (await b.post(`/portal/${slug}/profile/external-logins`, { provider: 'junk' })).statusCode,
      404,
    );
    await b.get(`/portal/${slug}/profile`);
    const gone = await b.post(`/portal/${slug}/profile/external-logins/not-an-id/delete`, {});
    assert.equal(gone.statusCode, 303);
    assert.ok(!h.logs().includes('"level":50'), 'no server error logged');
  });
});
