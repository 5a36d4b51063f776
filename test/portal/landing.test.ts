import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { INVALID_CODE_MESSAGE } from '../../src/errors.ts';
import {
  expireInvitation,
  type Json,
  makeContact,
  makeInvitation,
  makeSingle,
  makeWebsite,
  ok,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { countRows, land, registration } from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

onBothDatabases('portal landing and redeem form', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const invitationOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/invitations/${id}`));

  it('the landing keeps the code in the session and redirects to the same page without it', async () => {
    const { website, invitation, contact } = await makeSingle(h);
    const b = new PortalClient(h);
    const res = await b.get(`/portal/${website.slug}/register?returnurl=%2F&invitation=${invitation.code}`);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `/portal/${website.slug}/register?returnurl=%2F`);
    assert.ok(b.session(), 'a session cookie');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    const page = await b.follow(res);
    assert.equal(page.statusCode, 200);
    const text = textOf(page.body);
    assert.match(text, new RegExp(`You're invited to ${website.name}`));
    assert.ok(!page.body.includes(invitation.code), 'the code is not on the page');
    assert.match(
      page.body,
      new RegExp(`value="${contact.email}"`),
      'email pre-filled with the invited email',
    );
    for (const label of ['Email', 'Username', 'Password', 'Confirm Password']) {
      assert.match(page.body, new RegExp(`<label for="[a-zA-Z]+">${label}</label>`));
    }
    assert.match(page.body, />Register<\/button>/);
    // /redeem?invitation= is the same landing
    const other = new PortalClient(h);
    const r2 = await other.get(`/portal/${website.slug}/redeem?invitation=${invitation.code}`);
    assert.equal(r2.headers.location, `/portal/${website.slug}/redeem`);
    const logs = h.logs();
    assert.ok(!logs.includes(invitation.code), 'the code is not logged');
    assert.ok(!/"level":(40|50)/.test(logs), 'no warnings (such as a reply sent twice)');
  });

  it('mail scanners (GET and HEAD, five times) change nothing and get no signed-in session', async () => {
    const { website, invitation } = await makeSingle(h);
    const before = [await countRows(h, 'contacts'), await countRows(h, 'invite_redemptions')];
    const link = `/portal/${website.slug}/register?returnurl=%2F&invitation=${invitation.code}`;
    for (let i = 0; i < 5; i++) {
      for (const method of ['GET', 'HEAD'] as const) {
        const scanner = new PortalClient(h, `192.0.2.${i + 1}`);
        const res = await scanner.get(link, { method, follow: true });
        assert.ok(res.statusCode < 400, `${method} ${res.statusCode}`);
        const profile = await scanner.get(`/portal/${website.slug}/profile`);
        assert.equal(profile.statusCode, 303, 'not signed in: the profile sends to sign-in');
      }
    }
    const after = await invitationOf(invitation.id);
    assert.equal(after.redemptionCount, 0);
    assert.equal(after.status, 'new');
    assert.deepEqual([await countRows(h, 'contacts'), await countRows(h, 'invite_redemptions')], before);
    const signedIn = await h.deps.db
      .selectFrom('sessions')
      .select('id')
      .where('contact_id', 'is not', null)
      .where('website_id', '=', website.id)
      .execute();
    assert.equal(signedIn.length, 0);
  });

  it('every kind of bad code gets the one message, on the landing and on the form', async () => {
    const website = await makeWebsite(h);
    const otherSite = await makeWebsite(h);
    const contact = await makeContact(h);
    const make = (extra: Json) =>
      makeInvitation(h, { type: 'single', websiteId: website.id, invitedContactIds: [contact.id], ...extra });
    const expiring = await make({});
    await expireInvitation(h, expiring.id);
    const inactive = await make({});
    ok(await h.api('POST', `/api/v1/invitations/${inactive.id}/deactivate`));
    const usedUp = await make({});
    const redeemer = new PortalClient(h);
    await land(redeemer, website.slug, usedUp.code);
    await redeemer.post(`/portal/${website.slug}/register`, registration(contact.email));
    const elsewhere = await makeInvitation(h, { type: 'group', websiteId: otherSite.id, maxRedemptions: 5 });
    {
      const codes = {
        unknown: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ',
        malformed: 'not a code!',
        expired: expiring.code,
        inactive: inactive.code,
        usedUp: usedUp.code,
        otherWebsite: elsewhere.code,
      };
      for (const [kind, code] of Object.entries(codes)) {
        const b = new PortalClient(h);
        const page = await land(b, website.slug, code);
        assert.equal(page.statusCode, 422, kind);
        assert.ok(textOf(page.body).includes(INVALID_CODE_MESSAGE), `${kind} on the landing`);
        await b.get(`/portal/${website.slug}/redeem`);
        const form = await b.post(`/portal/${website.slug}/redeem`, { code });
        assert.equal(form.statusCode, 422, kind);
        assert.ok(textOf(form.body).includes(INVALID_CODE_MESSAGE), `${kind} on the form`);
        assert.match(form.body, /aria-invalid="true"/);
        assert.match(form.body, /role="alert"/, 'an error summary');
      }
    }
  });

  it('the Redeem Invitation form: a valid code goes on to register, or to sign in with "I have an existing account"', async () => {
    const { website, invitation } = await makeSingle(h);
    const b = new PortalClient(h);
    const form = await b.get(`/portal/${website.slug}/redeem`);
    assert.match(form.body, /<label for="code">Invitation Code<\/label>/);
    assert.match(form.body, /<label for="existing">I have an existing account<\/label>/);
    const typed = invitation.code.toLowerCase().replace(/-/g, ' ');
    const res = await b.post(`/portal/${website.slug}/redeem`, { code: typed });
    assert.equal(res.headers.location, `/portal/${website.slug}/register`);
    const b2 = new PortalClient(h);
    await b2.get(`/portal/${website.slug}/redeem`);
    const res2 = await b2.post(`/portal/${website.slug}/redeem`, { code: invitation.code, existing: 'on' });
    assert.equal(res2.headers.location, `/portal/${website.slug}/signin`);
    const signin = await b2.follow(res2);
    assert.match(textOf(signin.body), /Sign in to redeem your invitation/);
  });

  it('security headers on every page; forms are never cached; a POST without its CSRF token is refused', async () => {
    const { website, invitation } = await makeSingle(h);
    const b = new PortalClient(h);
    const page = await land(b, website.slug, invitation.code);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.ok(!csp.includes('unsafe-inline'));
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['cache-control'], 'no-store');
    const contactsBefore = await countRows(h, 'contacts');
    const refused = await b.post(
      `/portal/${website.slug}/register`,
      registration('new.person@example.test'),
      {
        csrf: null,
      },
    );
    assert.equal(refused.statusCode, 403);
    assert.match(textOf(refused.body), /This form has expired/);
    const forged = await b.post(`/portal/${website.slug}/register`, registration('new.person@example.test'), {
      csrf: 'forged-token',
    });
    assert.equal(forged.statusCode, 403);
    assert.equal(await countRows(h, 'contacts'), contactsBefore);
    assert.equal((await invitationOf(invitation.id)).redemptionCount, 0);
  });

  it('friendly 404 pages; an unknown portal is a plain 404', async () => {
    const website = await makeWebsite(h);
    const b = new PortalClient(h);
    const missing = await b.get(`/portal/${website.slug}/no-such-page`);
    assert.equal(missing.statusCode, 404);
    assert.match(textOf(missing.body), /Page not found/);
    assert.match(missing.headers['content-type'] as string, /text\/html/);
    const page = await b.get(`/portal/${website.slug}/p/nothing-here`);
    assert.equal(page.statusCode, 404);
    assert.equal((await b.get('/portal/no-such-site/register')).statusCode, 404);
  });
});
