import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { describeUnlessSkipped } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import {
  type Json,
  makeAccount,
  makeContact,
  makeWebRole,
  makeWebsite,
  ok,
  rand,
} from '../support/factories.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { makeMember, PASSWORD } from '../support/portal.ts';
import { freePort } from '../support/ports.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { TEST_CLIENT, TestIdp, type TestUser } from '../support/test-idp.ts';
import { chromiumSkip, launchChromium, SCREENSHOTS, step } from './browser.ts';

/**
 * The portal with an identity provider, in Chromium: invitations sent by SMTP, their link opened,
 * "Continue with Test IdP" to a real OpenID Provider on loopback and back. Every portal page is
 * screenshotted and checked with axe-core; the provider's own pages are screenshotted only.
 */
describeUnlessSkipped('portal journeys with an identity provider in Chromium', chromiumSkip, () => {
  let h: Harness;
  let browser: Browser;
  let idp: TestIdp;
  let origin = '';
  const sink = new SmtpSink();
  const users: Record<string, TestUser> = {};
  const slugs = Array.from({ length: 4 }, () => `idp-${rand()}`);

  before(async () => {
    await sink.start();
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    h = await startHarness('sqlite', {
      worker: true,
      env: {
        SMTP_URL: sink.url,
        PUBLIC_URL: origin,
        MAIL_FROM: 'Contoso Partners <partners@example.test>',
        ADMIT_OIDC_ALLOW_HTTP: 'true',
      },
    });
    await h.app.listen({ port, host: '127.0.0.1' });
    idp = await new TestIdp(
      users,
      slugs.map((s) => `${origin}/portal/${s}/oidc/callback`),
    ).start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await idp?.stop();
    await h?.close();
    await sink.stop();
  });

  /** A website with Test IdP (its verified emails trusted), a Partner role and an account. */
  async function site(name: string) {
    const website = await makeWebsite(h, { name, slug: slugs.pop() });
    ok(
      await h.api('POST', `/api/v1/websites/${website.id}/identity-providers`, {
        displayName: 'Test IdP',
        issuer: idp.issuer,
        clientId: TEST_CLIENT.id,
        clientSecret: TEST_CLIENT.secret,
        trustEmailVerified: true,
      }),
      201,
    );
    const role = await makeWebRole(h, website.id, 'Partner');
    const account = await makeAccount(h, `Fabrikam ${rand(2)}`);
    return { website, role, account };
  }

  async function linkFor(email: string): Promise<string> {
    const m = await eventually(
      () => sink.messages.find((x) => x.to.includes(email)),
      15_000,
      'the invitation email',
    );
    const link = /https?:\/\/\S+invitation=[0-9A-Z-]+/.exec(m.text)?.[0];
    assert.ok(link, 'the email has a redemption link');
    return link;
  }

  /**
   * Screenshot and axe-core (step) on the page as it is now, in a twin browser that shows the same
   * document at the same address without asking the server again: axe is injected inline, which
   * the portal's policy refuses, and the journeys run under that policy.
   */
  async function look(page: Page, name: string) {
    const twin = await browser.newContext({ bypassCSP: true });
    const p = await twin.newPage();
    const html = await page.content();
    await p.route(page.url(), (route) =>
      route.fulfill({ body: html, contentType: 'text/html; charset=utf-8' }),
    );
    await p.goto(page.url());
    await step(p, name);
    await twin.close();
  }

  /** At the provider: signs in as `login` (unless it remembers the browser) and consents. */
  async function atTheProvider(page: Page, login: string, name: string) {
    await page.waitForURL(`${idp.issuer}/**`);
    const form = page.locator('input[name="login"]');
    if (await form.count()) {
      await form.fill(login);
      await page.locator('input[name="password"]').fill('any password');
      await page.screenshot({ path: path.join(SCREENSHOTS, `oidc-${name}-provider-login.png`) });
      await page.getByRole('button', { name: 'Sign-in' }).click();
    }
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${origin}/**`);
  }

  it('Single: from the emailed link, continues with the provider and lands redeemed, with the role and account', async () => {
    const { website, account } = await site('Contoso Partners');
    const login = `ada-${rand()}`;
    users[login] = {
      email: `${login}@example.test`,
      email_verified: true,
      given_name: 'Ada',
      family_name: 'Lovelace',
    };
    const contact = await makeContact(h, {
      email: users[login].email,
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    const role = (
      ok<Json>(await h.api('GET', `/api/v1/websites/${website.id}/web-roles`)).items as Json[]
    )[0];
    ok(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
        webRoleIds: [role?.id],
        assignToAccountId: account.id,
        send: true,
      }),
      201,
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(await linkFor(contact.email));
    await page.getByRole('button', { name: 'Continue with Test IdP' }).waitFor();
    await look(page, 'oidc-single-landing');
    await page.getByRole('button', { name: 'Continue with Test IdP' }).click();
    await atTheProvider(page, login, 'single');
    await page.goto(`${origin}/portal/${website.slug}/profile`);
    const text = await page.locator('main').innerText();
    assert.match(text, new RegExp(account.name));
    assert.match(text, /Partner/);
    assert.match(text, /Test IdP/);
    await look(page, 'oidc-single-profile');
    const after = ok<Json>(await h.api('GET', `/api/v1/contacts/${contact.id}`));
    assert.equal(after.externalLogins[0]?.subject, login);
    await context.close();
  });

  it('Group: a new person continues with the provider and becomes a contact with the role', async () => {
    const { website, role } = await site('Contoso Group');
    const inviter = await makeContact(h);
    const invitation = ok<Json>(
      await h.api('POST', '/api/v1/invitations', {
        type: 'group',
        websiteId: website.id,
        maxRedemptions: 10,
        invitedContactIds: [inviter.id],
        webRoleIds: [role.id],
        send: true,
      }),
      201,
    );
    const login = `grace-${rand()}`;
    users[login] = {
      email: `${login}@example.test`,
      email_verified: true,
      given_name: 'Grace',
      family_name: 'Hopper',
    };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(await linkFor(inviter.email));
    await page.getByRole('button', { name: 'Continue with Test IdP' }).click();
    await atTheProvider(page, login, 'group');
    await page.goto(`${origin}/portal/${website.slug}/profile`);
    assert.match(await page.locator('main').innerText(), /Partner/);
    assert.equal(await page.locator('input[name="firstName"]').inputValue(), 'Grace');
    assert.equal(await page.locator('input[name="lastName"]').inputValue(), 'Hopper');
    await look(page, 'oidc-group-profile');
    const redemptions = ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}/redemptions`))
      .items as Json[];
    assert.equal(redemptions[0]?.method, 'external');
    await context.close();
  });

  it('an existing contact links the provider from the profile, then signs in with it', async () => {
    const { website } = await site('Contoso Members');
    const member = await makeMember(h, { firstName: 'Katherine', lastName: 'Johnson' }, [website.id]);
    const login = `kj-${rand()}`;
    users[login] = { email: member.email, email_verified: true };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/portal/${website.slug}/signin`);
    await look(page, 'oidc-signin');
    await page.getByLabel('Username').fill(member.username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${origin}/portal/${website.slug}/profile`);
    await look(page, 'oidc-profile-unlinked');
    await page.getByRole('button', { name: 'Link Test IdP' }).click();
    await atTheProvider(page, login, 'link');
    await page.getByRole('button', { name: 'Unlink Test IdP' }).waitFor();
    await look(page, 'oidc-profile-linked');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${origin}/portal/${website.slug}/signin`);
    await page.getByRole('button', { name: 'Continue with Test IdP' }).click();
    // The provider remembers this browser: straight back, signed in.
    await page.waitForURL((u) => u.origin === origin && !u.pathname.includes('/oidc/'));
    await page.goto(`${origin}/portal/${website.slug}/profile`);
    assert.match(await page.locator('main').innerText(), new RegExp(member.email));
    await context.close();
  });

  it('refusal pages read well: another address, and a provider that cannot be reached', async () => {
    const { website } = await site('Contoso Refusals');
    const contact = await makeContact(h, { email: `invitee.${rand()}@contoso.test` });
    ok(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
        send: true,
      }),
      201,
    );
    const login = `other-${rand()}`;
    users[login] = { email: `${login}@fabrikam.test`, email_verified: true };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(await linkFor(contact.email));
    await page.getByRole('button', { name: 'Continue with Test IdP' }).click();
    await atTheProvider(page, login, 'mismatch');
    await page.getByRole('heading', { name: 'This invitation was sent to another address' }).waitFor();
    await look(page, 'oidc-refused-mismatch');

    const down = await makeWebsite(h, { name: 'Contoso Down' });
    ok(
      await h.api('POST', `/api/v1/websites/${down.id}/identity-providers`, {
        displayName: 'Test IdP',
        issuer: `http://127.0.0.1:${await freePort()}`,
        clientId: TEST_CLIENT.id,
        clientSecret: TEST_CLIENT.secret,
      }),
      201,
    );
    await page.goto(`${origin}/portal/${down.slug}/signin`);
    await page.getByRole('button', { name: 'Continue with Test IdP' }).click();
    await page.getByRole('heading', { name: 'Sign-in with Test IdP is unavailable' }).waitFor();
    await look(page, 'oidc-refused-unavailable');
    await context.close();
  });
});
