import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureFirstAdmin } from '../../src/modules/users/user.sign-in.ts';
import { eventually } from '../support/eventually.ts';
import { type Json, makeAccount, makeWebRole, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';
import { chromiumSkip, launchChromium, step } from './browser.ts';

/** The admin console in Chromium: first sign-in, a contact, an invitation, sending it. */
describe('admin console in Chromium', { skip: chromiumSkip }, () => {
  let h: Harness;
  let browser: Browser;
  let origin: string;

  before(async () => {
    if (!existsSync('dist/admin/index.html')) {
      execFileSync(
        process.execPath,
        ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/admin/vite.config.ts'],
        {
          stdio: 'inherit',
        },
      );
    }
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    h = await startHarness('sqlite', { worker: true, env: { PUBLIC_URL: origin } });
    await h.app.listen({ port, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  /** A screenshot at desktop and at phone size, and axe-core on the page. */
  async function screens(page: Page, name: string) {
    await page.setViewportSize({ width: 1280, height: 800 });
    await step(page, `admin-${name}-1280`);
    await page.setViewportSize({ width: 390, height: 844 });
    await step(page, `admin-${name}-390`);
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  it('first sign-in with the one-time password, then a contact, an invitation for it, and sending it', async () => {
    const first = await ensureFirstAdmin(h.deps);
    assert.ok(first?.oneTimePassword);
    const website = await makeWebsite(h, { name: 'Contoso Partners' });
    const role = await makeWebRole(h, website.id, 'Partner');
    const account = await makeAccount(h, 'Fabrikam');
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();

    await page.goto(`${origin}/admin`);
    await page.getByRole('heading', { name: 'Sign in to Admit' }).waitFor();
    await screens(page, '1-sign-in');
    await page.getByLabel('Email').fill(first.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('The email or password is not right.').waitFor();
    await page.getByLabel('Password').fill(first.oneTimePassword);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await screens(page, '2-new-password');
    await page.getByLabel('Current password').fill(first.oneTimePassword);
    await page.getByLabel('New password', { exact: true }).fill('the console passphrase 1');
    await page.getByLabel('Confirm new password').fill('the console passphrase 1');
    await page.getByRole('button', { name: 'Save password' }).click();

    await page.getByRole('heading', { name: 'Contacts' }).waitFor();
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Last name').fill('Lovelace');
    await page.getByLabel('Email', { exact: true }).fill('not an email');
    await page.getByRole('button', { name: 'Create contact' }).click();
    await page.getByText('Enter an email address like name@example.com.').waitFor();
    await page.getByLabel('Email', { exact: true }).fill('ada.console@example.test');
    await page.getByRole('button', { name: 'Create contact' }).click();
    await page.getByText('Created Ada Lovelace.').waitFor();
    await page.getByLabel('Search contacts').fill('ada.console');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'ada.console@example.test' }).waitFor();
    await screens(page, '3-contacts');
    await page.getByRole('button', { name: 'Invite Ada Lovelace' }).click();
    await page.getByRole('heading', { name: 'Create Invitation' }).waitFor();
    await page.getByLabel('Website').selectOption({ label: website.name });
    await page.getByLabel('Account').selectOption({ label: account.name });
    await page.getByLabel(role.name).check();
    await screens(page, '3b-create-invitation');
    await page.getByRole('button', { name: 'Create Invitation', exact: true }).click();
    await page.getByText('Created 1 invitations.').waitFor();
    const made = ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}`)).items[0];
    assert.deepEqual(
      [made.assignToAccountId, made.webRoleIds],
      [account.id, [role.id]],
      'When Redeemed was saved',
    );

    await page.getByRole('link', { name: 'Invitations' }).click();
    await page.getByRole('heading', { name: 'Invitations' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select Ada Lovelace' }).check();
    await screens(page, '4-invitations');
    await page.getByRole('button', { name: 'Send Invitation' }).click();
    await page.getByRole('heading', { name: 'Send 1 invitation?' }).waitFor();
    await step(page, 'admin-5-send-dialog-1280');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText('1 of 1 invitations queued for sending.').waitFor();

    await eventually(
      async () => {
        await page.getByRole('tab', { name: 'Sent' }).click();
        return (await page.getByRole('cell', { name: 'Ada Lovelace' }).count()) > 0;
      },
      15_000,
      'the invitation in the Sent view',
    );
    await screens(page, '6-sent');

    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace' }).waitFor();
    await page.getByRole('cell', { name: 'ada.console@example.test' }).waitFor();
    await page.getByRole('button', { name: 'Reveal code' }).click();
    await page.getByText('Code revealed (recorded in the audit trail).').waitFor();
    const revealed = (await page.locator('output.code').innerText()).trim();
    assert.match(revealed, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){6}$/);
    await page.getByRole('button', { name: 'Regenerate code' }).click();
    await page.getByText('A new code replaces every earlier one.').waitFor();
    const second = (await page.locator('output.code').innerText()).trim();
    assert.notEqual(second, revealed, 'a new code');
    await page
      .getByText(/invitation\.code_revealed|invitation\.code_regenerated/)
      .first()
      .waitFor();
    await screens(page, '7-invitation');

    await page.getByRole('link', { name: 'Outbox' }).click();
    await page.getByRole('heading', { name: 'Outbox' }).waitFor();
    await page.getByRole('button', { name: "You're invited to Contoso Partners" }).first().click();
    await page.frameLocator('iframe[title="Message"]').getByText('Hello Ada,').waitFor();
    await screens(page, '7b-outbox');

    // The template can be edited only while the Send Invitation workflow is deactivated.
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('heading', { name: 'Invitation email template' }).waitFor();
    const subject = page.getByLabel('Subject');
    await subject.fill('Welcome to {{ website.name }}, {{ contact.firstName }}');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page
      .getByRole('alert')
      .getByText(/deactivate the Send Invitation workflow first/)
      .waitFor();
    await page.getByRole('button', { name: 'Deactivate Send Invitation' }).click();
    await page.getByText('Send Invitation deactivated.').waitFor();
    await page.getByLabel('Subject').fill('Welcome to {{ website.name }}, {{ contact.firstName }}');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText('Template saved.').waitFor();
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: 'Preview: Welcome to Contoso Partners, Ada' }).waitFor();
    await page
      .frameLocator('iframe[title="Email preview"]')
      .getByText("You're invited to Contoso Partners")
      .first()
      .waitFor();
    await screens(page, '8-workflows');
    await page.getByRole('button', { name: 'Activate Send Invitation' }).click();
    await page.getByText('Send Invitation activated.').waitFor();

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users and API keys' }).waitFor();
    await page.getByLabel('Key name').fill('ci robot');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('Key created: copy it now, it is not shown again.').waitFor();
    const secret = (await page.locator('output.code').innerText()).trim();
    assert.match(secret, /^admit_/);
    await screens(page, '9-users');
    const res = await fetch(`${origin}/api/v1/contacts`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(res.status, 200, 'the new key works');
    await page.getByRole('button', { name: 'Delete ci robot' }).click();
    await page.getByText('Deleted the key ci robot.').waitFor();
    const after = await fetch(`${origin}/api/v1/contacts`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(after.status, 401, 'a deleted key stops working');
    await context.close();
  });
});
