import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { describeUnlessSkipped } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import { type Json, makeAccount, makeContact, makeWebRole, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { makeMember, PASSWORD } from '../support/portal.ts';
import { freePort } from '../support/ports.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { chromiumSkip, launchChromium, step } from './browser.ts';

/**
 * Browser journeys (the portal issue): invitations made through the API and sent by SMTP, the
 * message read from the sink, its link opened in Chromium, every step screenshotted and checked
 * with axe-core.
 */
describeUnlessSkipped('portal journeys in Chromium', chromiumSkip, () => {
  let h: Harness;
  let browser: Browser;
  const sink = new SmtpSink();

  before(async () => {
    await sink.start();
    const port = await freePort();
    h = await startHarness('sqlite', {
      worker: true,
      env: {
        SMTP_URL: sink.url,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        MAIL_FROM: 'Contoso Partners <partners@example.test>',
      },
    });
    await h.app.listen({ port, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await sink.stop();
  });

  /** A website with a role-only page, a Single invitation for `contactId` with the role and an account, sent. */
  async function invite(contactId: string, websiteName: string) {
    const website = await makeWebsite(h, { name: websiteName });
    const role = await makeWebRole(h, website.id, 'Partner');
    const account = await makeAccount(h, `Fabrikam ${website.slug.slice(-4)}`);
    ok(
      await h.api('POST', `/api/v1/websites/${website.id}/web-pages`, {
        path: 'partners/prices',
        title: 'Partner prices',
        content: '<p>Hello {{ contact.firstName }}, these are the partner prices.</p>',
        webRoleIds: [role.id],
      }),
      201,
    );
    const invitation = ok<Json>(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contactId],
        webRoleIds: [role.id],
        assignToAccountId: account.id,
        send: true,
      }),
      201,
    );
    return { website, role, account, invitation };
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

  const newPage = async (): Promise<Page> => {
    // axe is injected as a script, which the portal's CSP would refuse.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    return context.newPage();
  };

  it('registers from the emailed link, lands signed in, sees the account, the role and the role-only page', async () => {
    const contact = await makeContact(h, { firstName: 'Ada', lastName: 'Lovelace' });
    const { website, account } = await invite(contact.id, 'Contoso Partners');
    const link = await linkFor(contact.email);
    const page = await newPage();

    await page.goto(link);
    assert.ok(!page.url().includes('invitation='), 'the code left the address bar');
    await page.getByRole('heading', { name: 'Accept your invitation to Contoso Partners' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), contact.email);
    await step(page, 'journey1-1-landing');

    await page.getByLabel('Username').fill('ada.lovelace');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Confirm Password').fill('short');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    await step(page, 'journey1-2-password-error');

    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();
    // Registered, the invitee lands on the profile, told once what the invitation gave.
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();
    await page.getByRole('status').getByText(`You now have Partner access at ${account.name}.`).waitFor();
    const profile = await page.locator('dl.facts').innerText();
    assert.match(profile, new RegExp(account.name));
    assert.match(profile, /Partner/);
    await step(page, 'journey1-4-profile');
    await page.getByRole('link', { name: website.name, exact: true }).click();
    await page.getByText('Welcome, Ada Lovelace.').waitFor();
    assert.equal(await page.getByText('You now have').count(), 0, 'said once');
    await step(page, 'journey1-3-home');

    await page.goto(`${new URL(page.url()).origin}/portal/${website.slug}/p/partners/prices`);
    await page.getByText('Hello Ada, these are the partner prices.').waitFor();
    await step(page, 'journey1-5-role-page');

    await page.setViewportSize({ width: 390, height: 844 });
    await step(page, 'journey1-6-role-page-phone');
    await page.context().close();
  });

  it('a workflow on redemption gives a role and sends a welcome email, seen in the mail and on the profile', async () => {
    const contact = await makeContact(h, { firstName: 'Katherine', lastName: 'Johnson' });
    const website = await makeWebsite(h, { name: 'Langley Portal' });
    const member = await makeWebRole(h, website.id, 'Member');
    const welcome = ok<Json>(
      await h.api('POST', '/api/v1/email-templates', {
        name: 'Welcome',
        subject: 'Welcome to {{ website.name }}, {{ contact.firstName }}',
        html: '<p>Hello {{ contact.firstName }}, you are now a member of {{ website.name }}.</p>',
        text: 'Hello {{ contact.firstName }}, you are now a member of {{ website.name }}.',
      }),
      201,
    );
    const workflow = ok<Json>(
      await h.api('POST', '/api/v1/workflows', {
        name: 'Welcome members',
        websiteId: website.id,
        steps: [
          { type: 'add-web-roles', webRoleIds: [member.id] },
          { type: 'send-email', templateId: welcome.id },
        ],
      }),
      201,
    );
    ok(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
        redemptionWorkflowId: workflow.id,
        send: true,
      }),
      201,
    );
    const link = await linkFor(contact.email);
    const page = await newPage();
    await page.goto(link);
    await page.getByLabel('Username').fill('katherine.johnson');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();

    const mail = await eventually(
      () =>
        sink.messages.find(
          (m) =>
            m.to.includes(contact.email) &&
            m.headers.get('subject') === 'Welcome to Langley Portal, Katherine',
        ),
      15_000,
      'the welcome email',
    );
    assert.match(mail.text, /you are now a member of Langley Portal/);
    // The run added the role after the redemption committed: the profile shows it.
    await page.getByRole('link', { name: 'Profile', exact: true }).click();
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();
    assert.match(await page.locator('dl.facts').innerText(), /Member/);
    await step(page, 'journey7-profile-with-workflow-role');
    const [run] = ok<Json>(await h.api('GET', `/api/v1/workflow-runs?contactId=${contact.id}`)).items;
    assert.deepEqual([run?.trigger, run?.status], ['redemption', 'succeeded']);
    await page.context().close();
  });

  it('"I have an existing account": signs in, confirms the redemption, gets the role', async () => {
    // A contact with an account on another portal: its credentials verify it for this redemption.
    const member = await makeMember(h, { firstName: 'Grace', lastName: 'Hopper' });
    const { website } = await invite(member.id, 'Northwind Partners');
    const link = await linkFor(member.email);
    const page = await newPage();

    await page.goto(link);
    await page.getByRole('link', { name: 'I have an existing account' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await step(page, 'journey2-1-sign-in');

    await page.getByLabel('Username').fill(member.username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Redeem this invitation for Grace Hopper?').waitFor();
    await step(page, 'journey2-2-confirm');

    await page.getByRole('button', { name: 'Redeem invitation' }).click();
    await page.getByText('Welcome, Grace Hopper.').waitFor();
    await step(page, 'journey2-3-home');

    await page.goto(`${new URL(page.url()).origin}/portal/${website.slug}/p/partners/prices`);
    await page.getByText('Hello Grace, these are the partner prices.').waitFor();
    await step(page, 'journey2-4-role-page');
    await page.context().close();
  });

  it('the Redeem Invitation form and the one failure message', async () => {
    const website = await makeWebsite(h, { name: 'Tailspin Portal' });
    const page = await newPage();
    await page.goto(`${h.deps.config.publicUrl}/portal/${website.slug}/redeem`);
    await step(page, 'journey3-1-redeem-form');
    await page.getByLabel('Invitation Code').fill('7K4Q-M2ZD-0000-0000');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText("This invitation code isn't valid.", { exact: false }).first().waitFor();
    await step(page, 'journey3-2-invalid-code');
    await page.context().close();
  });

  it('websites are kept apart: an open-registration account of one portal does not open another', async () => {
    const open = await makeWebsite(h, {
      name: 'Open Community',
      settings: { openRegistrationEnabled: true },
    });
    const closed = await makeWebsite(h, { name: 'Private Partners' });
    ok(
      await h.api('POST', `/api/v1/websites/${closed.id}/web-pages`, {
        path: 'members',
        title: 'Members',
        content: '<p>Only for members of Private Partners.</p>',
      }),
      201,
    );
    const page = await newPage();
    const origin = h.deps.config.publicUrl;
    await page.goto(`${origin}/portal/${open.slug}/register`);
    await page.getByLabel('Email').fill('mallory@example.test');
    await page.getByLabel('Username').fill('mallory');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();
    await step(page, 'journey4-1-registered-on-open');

    await page.goto(`${origin}/portal/${closed.slug}/p/members`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Username').fill('mallory');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The username or password is not right.').first().waitFor();
    await step(page, 'journey4-2-refused-on-closed');
    assert.ok(!(await page.content()).includes('Only for members'), 'no page of the other website');
    await page.context().close();
  });

  it('someone else’s Single link: "for someone else", then sign out and continue to its registration', async () => {
    const invited = await makeContact(h, { firstName: 'Katherine', lastName: 'Johnson' });
    const { website } = await invite(invited.id, 'Litware Partners');
    const member = await makeMember(h, { firstName: 'Dorothy', lastName: 'Vaughan' }, [website.id]);
    const link = await linkFor(invited.email);
    const page = await newPage();
    await page.goto(`${h.deps.config.publicUrl}/portal/${website.slug}/signin`);
    await page.getByLabel('Username').fill(member.username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Dorothy Vaughan.').waitFor();

    await page.goto(link);
    await page.getByRole('heading', { name: 'This invitation is for someone else' }).waitFor();
    assert.ok(!(await page.content()).includes('Redeem this invitation for'));
    await step(page, 'journey5-1-for-someone-else');
    await page.getByRole('button', { name: 'Sign out and continue' }).click();
    await page.getByRole('heading', { name: 'Accept your invitation to Litware Partners' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), invited.email);
    assert.equal(await page.getByLabel('Email').getAttribute('readonly'), '');
    await step(page, 'journey5-2-registration-after-sign-out');
    await page.context().close();
  });
});
