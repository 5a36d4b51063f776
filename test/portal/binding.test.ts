import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Json, makeInvitation, makeSingle, makeWebsite, ok, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import {
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

onBothDatabases(
  'portal: the invitation shown is the one redeemed; sessions, emails and passwords',
  (dialect) => {
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

    it('a form for one invitation does not redeem another that a second tab put in the session', async () => {
      const website = await makeWebsite(h);
      const first = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
      const second = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
      const tab1 = new PortalClient(h);
      const shown = await land(tab1, website.slug, first.code);
      assert.match(shown.body, /name="invitation" value="[0-9a-f]{16}"/);
      // A second tab (or a cross-site top-level navigation) opens another link in the same browser.
      const tab2 = new PortalClient(h);
      for (const [k, v] of tab1.cookies) tab2.cookies.set(k, v);
      await land(tab2, website.slug, second.code);
      for (const [k, v] of tab2.cookies) tab1.cookies.set(k, v);
      const refused = await tab1.post(
        `/portal/${website.slug}/register`,
        registration(`tab.${rand()}@example.test`),
      );
      assert.equal(refused.statusCode, 409);
      assert.match(textOf(refused.body), /The invitation has changed/);
      assert.match(textOf(refused.body), /Nothing was redeemed/);
      assert.equal((await invitationOf(first.id)).redemptionCount, 0);
      assert.equal((await invitationOf(second.id)).redemptionCount, 0);
      // Reloading shows the invitation the session holds, and that form redeems it.
      await tab1.get(`/portal/${website.slug}/register`);
      const done = await tab1.post(
        `/portal/${website.slug}/register`,
        registration(`tab.${rand()}@example.test`),
      );
      assert.equal(done.statusCode, 303);
      assert.equal((await invitationOf(second.id)).redemptionCount, 1);
      assert.equal((await invitationOf(first.id)).redemptionCount, 0);

      // The same for the signed-in confirmation, and for an open-registration form.
      const member = await makeMember(h, {}, [website.id]);
      const c = new PortalClient(h);
      await land(c, website.slug, first.code);
      await c.follow(await signInAs(c, website.slug, member.username));
      const other = new PortalClient(h);
      for (const [k, v] of c.cookies) other.cookies.set(k, v);
      await land(other, website.slug, second.code);
      for (const [k, v] of other.cookies) c.cookies.set(k, v);
      const changed = await c.post(`/portal/${website.slug}/redeem/confirm`, {});
      assert.equal(changed.statusCode, 409);
      assert.equal((await invitationOf(first.id)).redemptionCount, 0);
    });

    it('the CSRF secret changes at sign-in and at redemption: a form token from before no longer works', async () => {
      const { website, invitation, contact } = await makeSingle(h);
      const b = new PortalClient(h);
      await land(b, website.slug, invitation.code);
      const before = b.csrf();
      const secretBefore = b.cookies.get('admit_csrf');
      await b.post(`/portal/${website.slug}/register`, registration(contact.email));
      assert.notEqual(b.cookies.get('admit_csrf'), secretBefore, 'a new secret');
      const stale = await b.post(
        `/portal/${website.slug}/profile`,
        { firstName: 'X', lastName: 'Y', email: contact.email },
        { csrf: before },
      );
      assert.equal(stale.statusCode, 403);
      assert.match(textOf(stale.body), /This form has expired/);

      const member = await makeMember(h, {}, [website.id]);
      const c = new PortalClient(h);
      await c.get(`/portal/${website.slug}/signin`);
      const token = c.csrf();
      await c.post(`/portal/${website.slug}/signin`, { login: member.username, password: PASSWORD });
      const after = await c.post(`/portal/${website.slug}/signout`, {}, { csrf: token });
      assert.equal(after.statusCode, 403, 'the sign-in page token died with the sign-in');
    });

    it('a changed profile email waits for its link: resets go to the confirmed address until then', async () => {
      const website = await makeWebsite(h);
      const member = await makeMember(h, {}, [website.id]);
      const b = new PortalClient(h);
      await signInAs(b, website.slug, member.username);
      await b.get(`/portal/${website.slug}/profile`);
      const next = `next.${rand()}@example.test`;
      const saved = await b.post(`/portal/${website.slug}/profile`, {
        firstName: member.firstName,
        lastName: member.lastName,
        email: next,
      });
      assert.match(
        textOf(saved.body),
        new RegExp(`your email changes when you open it. Until then we keep using ${member.email}`),
      );
      assert.match(textOf(saved.body), new RegExp(`Changing to ${next}`));
      const pending = await contactOf(member.id);
      assert.deepEqual(
        [pending.email, pending.emailConfirmed, pending.pendingEmail],
        [member.email, true, next],
      );

      // A reset asked for either address goes to the confirmed one only.
      const f = new PortalClient(h);
      for (const address of [next, member.email]) {
        await f.get(`/portal/${website.slug}/forgot-password`);
        await f.post(`/portal/${website.slug}/forgot-password`, { email: address });
      }
      await outboxLink(h, member.email, 'reset-password');
      const toNext = await h.deps.db
        .selectFrom('emails')
        .select('subject')
        .where('to_address', '=', next)
        .execute();
      assert.ok(
        toNext.every((e) => !/Reset/.test(e.subject ?? '')),
        'no reset to the unconfirmed address',
      );

      const link = await outboxLink(h, next, 'confirm-email');
      await b.get(pathOf(link));
      const token = new URL(link).searchParams.get('token') as string;
      const without = await b.post(`/portal/${website.slug}/confirm-email`, {
        token,
        password: 'not it at all',
      });
      assert.equal(
        without.statusCode,
        422,
        'the link alone does not confirm: the password must come with it',
      );
      assert.equal((await contactOf(member.id)).email, member.email);
      const done = await b.post(`/portal/${website.slug}/confirm-email`, { token, password: PASSWORD });
      assert.match(textOf(done.body), /Your email is confirmed/);
      const changed = await contactOf(member.id);
      assert.deepEqual([changed.email, changed.emailConfirmed, changed.pendingEmail], [next, true, null]);

      // A second change replaces the first: the older link no longer applies.
      await b.get(`/portal/${website.slug}/profile`);
      const a = `a.${rand()}@example.test`;
      const z = `z.${rand()}@example.test`;
      for (const email of [a, z]) {
        await b.get(`/portal/${website.slug}/profile`);
        await b.post(`/portal/${website.slug}/profile`, { firstName: 'Ada', lastName: 'L', email });
      }
      const old = await outboxLink(h, a, 'confirm-email');
      await b.get(pathOf(old));
      const stale = await b.post(`/portal/${website.slug}/confirm-email`, {
        token: new URL(old).searchParams.get('token') as string,
        password: PASSWORD,
      });
      assert.equal(stale.statusCode, 410);
      assert.equal((await contactOf(member.id)).email, next);
    });

    it('passwords are compared in NFKC and may not be made of the username, the email or the site name', async () => {
      const website = await makeWebsite(h, {
        name: 'Contoso Partners',
        settings: { openRegistrationEnabled: true },
      });
      const b = new PortalClient(h);
      const username = `unicode_${rand()}`;
      const composed = 'Crème brûlée à la carte 7';
      const decomposed = composed.normalize('NFD');
      assert.notEqual(composed, decomposed);
      await b.get(`/portal/${website.slug}/register`);
      const res = await b.post(
        `/portal/${website.slug}/register`,
        registration(`uni.${rand()}@example.test`, username, composed),
      );
      assert.equal(res.statusCode, 303);
      assert.equal((await signInAs(new PortalClient(h), website.slug, username, decomposed)).statusCode, 303);
      assert.equal((await signInAs(new PortalClient(h), website.slug, username, composed)).statusCode, 303);

      const email = `grace.hopper.${rand()}@example.test`;
      const weak = [
        [`${username}`, username],
        [`${username}2024!`, username],
        [email, `user_${rand()}`],
        ['Grace.Hopper#1', `user_${rand()}`],
        ['hopper hopper', `user_${rand()}`],
        ['Contoso Partners 1', `user_${rand()}`],
      ];
      for (const [password, name] of weak) {
        await b.get(`/portal/${website.slug}/register`);
        const refused = await b.post(`/portal/${website.slug}/register`, registration(email, name, password));
        assert.equal(refused.statusCode, 422, password);
        assert.match(textOf(refused.body), /Don't make your password from your username/, password);
      }
    });

    it('a Group claim: each registration mails its own link; the inbox owner completes only with the password', async () => {
      // The invited inbox receives links for both the stranger's and its owner's attempt; each is
      // bound to the password chosen with it.
      const website = await makeWebsite(h);
      const invited = ok<Json>(
        await h.api('POST', '/api/v1/contacts', {
          firstName: 'Ivy',
          lastName: 'Invited',
          email: `ivy.${rand()}@example.test`,
        }),
        201,
      );
      const group = await makeInvitation(h, {
        type: 'group',
        websiteId: website.id,
        invitedContactIds: [invited.id],
        maxRedemptions: 2,
      });
      const b = new PortalClient(h);
      await land(b, website.slug, group.code);
      await b.post(`/portal/${website.slug}/register`, registration(invited.email, `ivy_${rand()}`));
      const [link] = await outboxLinks(h, invited.email, 'confirm-registration', 1);
      const token = new URL(link as string).searchParams.get('token') as string;
      await b.get(pathOf(link as string));
      await b.post(`/portal/${website.slug}/confirm-registration`, { token, password: PASSWORD });
      const twice = new PortalClient(h);
      assert.equal((await twice.get(pathOf(link as string))).statusCode, 410, 'the page says so');
      await twice.get(`/portal/${website.slug}/redeem`);
      assert.equal(
        (await twice.post(`/portal/${website.slug}/confirm-registration`, { token, password: PASSWORD }))
          .statusCode,
        410,
        'used once',
      );
      assert.equal((await invitationOf(group.id)).redemptionCount, 1);
      assert.equal((await contactOf(invited.id)).loginEnabled, true);
    });
  },
);
