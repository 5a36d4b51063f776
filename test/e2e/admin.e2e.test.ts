import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { enqueue } from '../../src/jobs/enqueue.ts';
import { ensureFirstAdmin } from '../../src/modules/users/user.sign-in.ts';
import { describeUnlessSkipped } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import { type Json, makeAccount, makeWebRole, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';
import { userLinkTokens } from '../support/user-links.ts';
import { chromiumSkip, launchChromium, step } from './browser.ts';

/** The admin console in Chromium: first sign-in, a contact, an invitation, sending it. */
describeUnlessSkipped('admin console in Chromium', chromiumSkip, () => {
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

  /** A new browser context signed in as the administrator (its password set by the first journey). */
  async function signedIn() {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${origin}/admin`);
    await page.getByLabel('Email').fill('admin@localhost');
    await page.getByLabel('Password').fill('the console passphrase 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    return { context, page };
  }

  /** Whether no invitation of the website is still unsent (status new). */
  async function allSent(websiteId: string) {
    return (
      ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${websiteId}&status=new&limit=1`)).items
        .length === 0
    );
  }

  /**
   * Answers the console's confirmation dialog (its confirming button, or Cancel) and returns its
   * question: the title and what follows.
   */
  async function answer(page: Page, yes: boolean): Promise<string> {
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const question = `${await dialog.getByRole('heading').innerText()} ${
      (await dialog.locator('p').count()) > 0 ? await dialog.locator('p').innerText() : ''
    }`.trim();
    if (yes) await dialog.getByRole('button').first().click();
    else await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    return question;
  }

  /** A screenshot at desktop and at phone size, and axe-core on the page. */
  async function screens(page: Page, name: string) {
    await page.setViewportSize({ width: 1280, height: 800 });
    await step(page, `admin-${name}-1280`);
    await page.setViewportSize({ width: 390, height: 844 });
    await step(page, `admin-${name}-390`);
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  it('seed 003 in the console: first sign-in, a contact, Create Invitation, send, the invitee registers', async () => {
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

    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor();
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
    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    const edit = page.getByRole('form', { name: 'Edit Ada Lovelace' });
    await edit.getByLabel('Email 2').fill('ada.other');
    await edit.getByRole('button', { name: 'Save contact' }).click();
    await page.getByText('Email 2: Enter an email address like name@example.com.').waitFor();
    await edit.getByLabel('Email 2').fill('ada.other@example.test');
    await edit.getByLabel('Parent account', { exact: true }).selectOption({ label: account.name });
    await screens(page, '3a-edit-contact');
    const access = page.getByRole('region', { name: 'Portal access of Ada Lovelace' });
    await access.getByRole('button', { name: `Give access to ${website.name}` }).click();
    await page.getByText(`Ada Lovelace can now sign in to ${website.name}.`).waitFor();
    await access.getByText(/Can sign in \(given by an administrator\)/).waitFor();
    await screens(page, '3c-portal-access');
    await edit.getByRole('button', { name: 'Save contact' }).click();
    await page.getByText('Changes saved.').waitFor();
    await page.getByRole('link', { name: account.name }).waitFor();
    const [ada] = ok<Json>(await h.api('GET', '/api/v1/contacts?search=ada.console')).items;
    assert.deepEqual(
      [ada.email2, ada.parentAccountId],
      ['ada.other@example.test', account.id],
      'the edit saved',
    );
    assert.deepEqual(
      ok<Json>(await h.api('GET', `/api/v1/contacts/${ada.id}/websites`)).items.map((a: Json) => a.websiteId),
      [website.id],
      'the access given in the console',
    );
    await screens(page, '3d-contact-page');
    await page
      .getByRole('toolbar', { name: 'Contact actions' })
      .getByRole('button', { name: 'Create Invitation' })
      .click();
    await page.getByRole('heading', { name: 'Create Invitation' }).waitFor();
    await page.getByLabel('Website', { exact: true }).selectOption({ label: website.name });
    await page.getByLabel('Account', { exact: true }).selectOption({ label: account.name });
    await page.getByLabel(role.name).check();
    const inDays = new Date(Date.now() + 3 * 86_400_000);
    const local = new Date(inDays.getTime() - inDays.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Expiry Date').fill(local);
    await screens(page, '3b-create-invitation');
    const createForm = page.getByRole('form', { name: 'Create Invitation' });
    await createForm.getByRole('button', { name: 'Create Invitation', exact: true }).click();
    // Saved, the new invitation's page opens.
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    await page
      .getByRole('toolbar', { name: 'Invitation actions' })
      .getByRole('button', { name: 'Send' })
      .waitFor();
    const made = ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}`)).items[0];
    assert.deepEqual(
      [made.assignToAccountId, made.webRoleIds, made.ownerId],
      [
        account.id,
        [role.id],
        ok<Json>(await h.api('GET', '/api/v1/users')).items.find((u: Json) => u.email === first.email).id,
      ],
      'When Redeemed was saved; the owner is the one who made it',
    );
    assert.ok(Math.abs(Date.parse(made.expiresAt) - inDays.getTime()) < 60_000, 'the Expiry Date chosen');
    // Inviting her again warns that she holds an open invitation there, and skips her unless told.
    await page.getByRole('link', { name: 'Ada Lovelace' }).first().click();
    await page
      .getByRole('toolbar', { name: 'Contact actions' })
      .getByRole('button', { name: 'Create Invitation' })
      .click();
    await page.getByLabel('Website', { exact: true }).selectOption({ label: website.name });
    await page.getByText(`This contact already holds an open invitation to ${website.name}:`).waitFor();
    await screens(page, '3e-already-invited');
    await createForm.getByRole('button', { name: 'Create Invitation', exact: true }).click();
    await page
      .getByRole('alert')
      .getByText(/Not created: the contact already holds an open invitation/)
      .waitFor();
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}`)).items.length, 1);

    await page.getByRole('link', { name: 'Invitations' }).click();
    await page.getByRole('heading', { name: 'Invitations', level: 1 }).waitFor();
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
        return (await page.getByRole('row', { name: /Ada Lovelace single sent/ }).count()) > 0;
      },
      15_000,
      'the invitation in the Sent view',
    );
    await screens(page, '6-sent');

    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    await page.getByRole('cell', { name: 'ada.console@example.test' }).waitFor();
    await page.getByRole('button', { name: 'Reveal code' }).click();
    await page.getByText('Code revealed (recorded in the audit trail).').waitFor();
    const revealed = (await page.locator('output.code').innerText()).trim();
    assert.match(revealed, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){6}$/);
    // Regenerating asks first; Cancel changes nothing. Then it offers to send the new code.
    await page.getByRole('button', { name: 'Regenerate code' }).click();
    await step(page, 'admin-6c-regenerate-dialog-1280');
    assert.match(
      await answer(page, false),
      /^Regenerate the code\?\s+Every earlier code and link stops working/,
    );
    assert.equal((await page.locator('output.code').innerText()).trim(), revealed, 'Cancel keeps the code');
    await page.getByRole('button', { name: 'Regenerate code' }).click();
    await answer(page, true);
    await page.getByText('A new code replaces every earlier one.').waitFor();
    assert.match(await answer(page, false), /^Send the new code to the invited contacts now\?/);
    const second = (await page.locator('output.code').innerText()).trim();
    assert.notEqual(second, revealed, 'a new code');
    // Deactivate (after a confirmation), then Activate again, from the command bar.
    const bar = page.getByRole('toolbar', { name: 'Invitation actions' });
    await bar.getByRole('button', { name: /^Resend \(1 earlier email\)$/ }).waitFor();
    await bar.getByRole('button', { name: 'Deactivate' }).click();
    await answer(page, true);
    await page.getByText('Deactivated: no redemption succeeds now.').waitFor();
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations/${made.id}`)).state, 'inactive');
    await screens(page, '6b-invitation-inactive');
    await bar.getByRole('button', { name: 'Activate' }).click();
    await page.getByText('Activated: the code works again.').waitFor();
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations/${made.id}`)).state, 'active');
    await page
      .getByText(/: Code revealed by Administrator$/)
      .first()
      .waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Ada at Contoso');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    await page.getByRole('heading', { name: 'Ada at Contoso' }).waitFor();
    const edited = ok<Json>(await h.api('GET', `/api/v1/invitations/${made.id}`));
    assert.deepEqual([edited.name, edited.webRoleIds], ['Ada at Contoso', [role.id]], 'renamed, roles kept');
    await screens(page, '7-invitation');

    await page.getByRole('link', { name: 'Outbox' }).click();
    await page.getByRole('heading', { name: 'Outbox' }).waitFor();
    await page.getByRole('button', { name: "You're invited to Contoso Partners" }).first().click();
    await page.frameLocator('iframe[title="Message"]').getByText('Hello Ada,').waitFor();
    await screens(page, '7b-outbox');
    // A newcomer follows the invitation as the invitee: the link is revealed (audited), then opened.
    await page.getByRole('button', { name: 'Reveal the invitation link' }).click();
    await answer(page, true);
    const follow = page.getByRole('link', { name: 'Open the invitation link' });
    await follow.waitFor();
    assert.match(
      (await follow.getAttribute('href')) as string,
      /\/register\?returnurl=%2F&invitation=[0-9A-Z-]{34}$/,
    );
    assert.equal(
      ok<Json>(
        await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${made.id}&limit=100`),
      ).items.filter((e: Json) => e.action === 'invitation.code_revealed').length,
      2,
      'the reveal is in the audit trail (after the one on the invitation page)',
    );
    // Seed 003 to its end: the invitee follows the link, registers, lands on the profile told what
    // the invitation gave; the console then lists the invitation as redeemed.
    const invitee = await (await browser.newContext()).newPage();
    await invitee.goto((await follow.getAttribute('href')) as string);
    await invitee.getByLabel('Username').fill('ada.console');
    await invitee.getByLabel('Password', { exact: true }).fill('the invitee passphrase 1');
    await invitee.getByLabel('Confirm Password').fill('the invitee passphrase 1');
    await invitee.getByRole('button', { name: 'Register' }).click();
    await invitee.getByRole('heading', { name: 'Your profile' }).waitFor();
    await invitee.getByText(`You now have ${role.name} access at ${account.name}.`).waitFor();
    await invitee.context().close();
    await page.getByRole('link', { name: 'Invitations' }).click();
    await page.getByRole('tab', { name: 'Redeemed' }).click();
    await page.getByRole('link', { name: 'Ada at Contoso' }).waitFor();
    await page.getByRole('link', { name: 'Outbox' }).click();

    // The template can be edited only while the Send Invitation workflow is deactivated.
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('heading', { name: 'Invitation email template' }).waitFor();
    // Read-only, with a hint, while the workflow is active.
    await page.getByText(/Read-only while Send Invitation is active/).waitFor();
    assert.equal(await page.getByLabel('Subject').isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Save template' }).count(), 0);
    await page.getByRole('button', { name: 'Deactivate Send Invitation' }).click();
    await page.getByText('Send Invitation deactivated.').waitFor();
    await page.getByLabel('Subject').fill('Welcome to {{ website.name }}, {{ contact.firstName }}');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText('Template saved.').waitFor();
    // Sample data first; then the invitation chosen, as it was sent.
    await page.getByRole('heading', { name: 'Preview: Welcome to Contoso Partners, Alex' }).waitFor();
    await page.getByLabel('Search: Preview with').fill('Ada');
    await page
      .getByLabel('Preview with', { exact: true })
      .selectOption({ label: 'Ada at Contoso (redeemed)' });
    await page.getByRole('heading', { name: 'Preview: Welcome to Contoso Partners, Ada' }).waitFor();
    await page
      .frameLocator('iframe[title="Email preview"]')
      .getByText("You're invited to Contoso Partners")
      .first()
      .waitFor();
    // The preview follows the editor before anything is saved, and says when the Liquid is broken.
    await page.getByLabel('Subject').fill('Draft for {{ contact.firstName }} {{ contact.frstName }}');
    await page.getByRole('heading', { name: 'Preview: Draft for Ada' }).waitFor();
    await page.getByText('Unknown variables (they render empty): contact.frstName').waitFor();
    await page.getByLabel('Text (Liquid)').fill('{% if %}');
    await page
      .getByRole('alert')
      .getByText(/The text is not valid Liquid/)
      .waitFor();
    await page.getByLabel('Text (Liquid)').fill('Hello {{ contact.firstName }}');
    await page.getByLabel('Subject').fill('Welcome to {{ website.name }}, {{ contact.firstName }}');
    await page.getByRole('heading', { name: 'Preview: Welcome to Contoso Partners, Ada' }).waitFor();
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
    const questions: string[] = [];
    await page.getByRole('button', { name: 'Delete ci robot' }).click();
    questions.push(await answer(page, false));
    await page.getByRole('button', { name: 'Delete ci robot' }).waitFor();
    assert.equal(
      (await fetch(`${origin}/api/v1/contacts`, { headers: { authorization: `Bearer ${secret}` } })).status,
      200,
      'Cancel deletes nothing',
    );
    await page.getByRole('button', { name: 'Delete ci robot' }).click();
    questions.push(await answer(page, true));
    await page.getByText('Deleted the key ci robot.').waitFor();
    assert.deepEqual(
      questions.map((q) => q.replace(/\s+/g, ' ')),
      Array(2).fill('Delete the key ci robot? Anything using it stops working at once.'),
    );
    const after = await fetch(`${origin}/api/v1/contacts`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(after.status, 401, 'a deleted key stops working');
    await context.close();
  });

  it("under the console's own policy, the outbox and the preview show a message's styles and run none of its scripts", async () => {
    // No bypassCSP here: what an administrator's browser enforces.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/admin`);
    await page.getByLabel('Email').fill('admin@localhost');
    await page.getByLabel('Password').fill('the console passphrase 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/.test(m.text())) refused.push(m.text());
    });

    await page.getByRole('link', { name: 'Outbox' }).click();
    await page.getByRole('button', { name: "You're invited to Contoso Partners" }).first().click();
    const message = page.frameLocator('iframe[title="Message"]');
    await message.getByText('Hello Ada,').waitFor();
    assert.equal(
      await message
        .getByRole('link', { name: 'Accept invitation' })
        .evaluate((a) => getComputedStyle(a).backgroundColor),
      'rgb(11, 92, 173)',
      "the message's inline styles apply, as in the .eml",
    );

    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('button', { name: 'Deactivate Send Invitation' }).click();
    await page.getByText('Send Invitation deactivated.').waitFor();
    await page
      .getByLabel('HTML (Liquid)')
      .fill(
        '<meta http-equiv="refresh" content="1;url=https://example.com/"><p style="color: rgb(200, 0, 0)">Styled</p><img src="x" onerror="document.body.dataset.ran=1"><script>document.body.dataset.ran=1</script><a href="https://example.com/" target="_self">Elsewhere</a>',
      );
    const preview = page.frameLocator('iframe[title="Email preview"]');
    await preview.getByText('Styled').waitFor();
    assert.equal(
      await preview.getByText('Styled').evaluate((p) => getComputedStyle(p).color),
      'rgb(200, 0, 0)',
    );
    assert.equal(
      await preview.locator('body').getAttribute('data-ran'),
      null,
      'no script of the message ran',
    );
    await eventually(() => refused.length > 0 || undefined, 5_000, 'the frame to refuse the script');
    // Nothing in the message moves the frame to another page (whose scripts would run there).
    await preview.getByRole('link', { name: 'Elsewhere' }).click();
    await new Promise((r) => setTimeout(r, 1_500));
    const frame = await (await page.locator('iframe[title="Email preview"]').elementHandle())?.contentFrame();
    assert.equal(
      new URL(frame?.url() ?? '').pathname,
      '/admin/message-frame',
      'neither the refresh nor the link',
    );
    assert.equal(context.pages().length, 1, 'no window opened');
    // Focus back in the console (headless Chromium drops the first click that leaves a frame).
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).click();
    await page.getByRole('button', { name: 'Activate Send Invitation' }).click();
    await page.getByText('Send Invitation activated.').waitFor();
    await context.close();
  });

  it('accounts: create one, find it, rename it, see and export its contacts, open one', async () => {
    const { context, page } = await signedIn();
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Woodgrove Bank');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Woodgrove Bank', level: 1 }).waitFor();
    const account = ok<Json>(await h.api('GET', '/api/v1/accounts?search=Woodgrove')).items[0];
    for (const first of ['Ann', 'Ben'])
      ok(
        await h.api('POST', '/api/v1/contacts', {
          firstName: first,
          lastName: 'Woodgrove',
          email: `${first.toLowerCase()}@woodgrove.example`,
          parentAccountId: account.id,
        }),
        201,
      );
    await page.reload();
    await page.getByRole('heading', { name: 'Contacts (2)' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Woodgrove Bank plc');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByText('Renamed.').waitFor();
    await page.getByRole('heading', { name: 'Woodgrove Bank plc', level: 1 }).waitFor();
    const exported = page.getByRole('link', { name: 'Export its contacts as CSV' });
    const csv = await (
      await fetch(`${origin}${await exported.getAttribute('href')}`, {
        headers: { cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') },
      })
    ).text();
    assert.equal(csv.trim().split('\r\n').length, 3, 'the header and its two contacts');
    await screens(page, '16-account');
    // The account is found by search in the pickers, not only among the first hundred.
    await page.getByRole('link', { name: 'Ann Woodgrove' }).click();
    await page.getByRole('heading', { name: 'Ann Woodgrove', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Woodgrove Bank plc' }).waitFor();
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByLabel('Search accounts').fill('woodgrove');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Woodgrove Bank plc' }).waitFor();
    await screens(page, '16a-accounts');
    await context.close();
  });

  it('imports 200 contacts with one bad line, selects all 200, invites and sends them, sets up a website, shows the funnel', async () => {
    const website = await makeWebsite(h, { name: 'Batch Portal' });
    const { context, page } = await signedIn();

    await page.getByRole('link', { name: 'Contacts' }).click();
    const lines = ['firstName,lastName,email'];
    for (let i = 1; i <= 200; i++) lines.push(`Batch${i},Importer,batch${i}@example.test`);
    lines.splice(8, 0, 'Broken,Line,not-an-email');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'contacts.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${lines.join('\n')}\n`),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported: 200 created, 0 skipped, 1 failed.').waitFor();
    const bad = page.getByRole('table', { name: 'Lines not created' }).getByRole('row').nth(1);
    assert.match(await bad.innerText(), /^9\s+failed\s+email: .+/, 'the bad line, its number and why');
    await screens(page, '10-import');

    await page.getByLabel('Search contacts').fill('Importer');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'batch200@example.test' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select every contact on this page' }).check();
    await page.getByText('All 25 contacts on this page are selected.').waitFor();
    await page.getByRole('button', { name: 'Select all 200 contacts matching “Importer”' }).click();
    await page.getByText('All 200 contacts matching “Importer” are selected.').waitFor();
    await screens(page, '10b-select-all-matching');
    await page.getByRole('button', { name: 'Create Invitation for 200 selected' }).click();
    await page.getByLabel('Website', { exact: true }).selectOption({ label: website.name });
    await page.getByRole('button', { name: 'Create Invitation', exact: true }).click();
    await page.getByText('Inviting 200 contacts.').waitFor();
    await page
      .getByRole('region', { name: 'Invitations: done' })
      .getByText('200 of 200 — 200 invitations created, 0 not invited.')
      .waitFor({ timeout: 30_000 });

    await page.getByRole('link', { name: 'Invitations' }).click();
    await page.getByLabel('Website', { exact: true }).selectOption({ label: website.name });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: 'Batch1 Importer', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Select every invitation in this view' }).click();
    await page.getByText('200 selected').waitFor();
    await page.getByRole('button', { name: 'Send Invitation' }).click();
    await page.getByRole('heading', { name: 'Send 200 invitations?' }).waitFor();
    await step(page, 'admin-11-send-200-dialog-1280');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText('200 of 200 invitations queued for sending.').waitFor();
    await eventually(
      async () => {
        return allSent(website.id);
      },
      30_000,
      'all 200 invitations sent',
    );
    await page.getByRole('tab', { name: 'Sent' }).click();
    await page.getByRole('link', { name: 'Batch1 Importer', exact: true }).waitFor();
    await screens(page, '11-sent-200');

    await page.getByRole('link', { name: 'Websites' }).click();
    await page.getByRole('link', { name: website.name }).click();
    await page.getByRole('heading', { name: website.name, level: 1 }).waitFor();
    await page.getByLabel('Open registration').check();
    await page.getByLabel('Invitation lifetime in days').fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Invitation lifetime: a whole number of days from 1 to 3650.').waitFor();
    await page.getByLabel('Invitation lifetime in days').fill('30');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    await page.getByLabel('Role name').fill('Reseller');
    await page.getByRole('button', { name: 'Add web role' }).click();
    await page.getByText('Added the web role Reseller.').waitFor();
    const newPage = page.getByRole('form', { name: 'New web page' });
    await newPage.getByLabel('Path (served at /p/…)').fill('prices');
    await newPage.getByLabel('Title').fill('Reseller prices');
    await newPage
      .getByLabel('Content (Liquid; contact and website variables)')
      .fill('Hello {{ contact.firstName }}');
    await newPage.getByLabel('Reseller').check();
    await newPage.getByRole('button', { name: 'Create page' }).click();
    await page.getByText('Created the page Reseller prices.').waitFor();
    await page.getByRole('cell', { name: 'Reseller', exact: true }).last().waitFor();
    const saved = ok<Json>(await h.api('GET', `/api/v1/websites/${website.id}`));
    assert.deepEqual(
      [saved.settings.openRegistrationEnabled, saved.settings.defaultInvitationLifetimeDays],
      [true, 30],
      'the settings were saved',
    );
    const [pageRow] = ok<Json>(await h.api('GET', `/api/v1/websites/${website.id}/web-pages`)).items;
    assert.equal(pageRow.webRoleIds.length, 1, 'the page is for the new role only');
    await screens(page, '12-website');
    await page.getByRole('link', { name: '← Websites' }).click();
    await page.getByRole('heading', { name: 'Websites', level: 1 }).waitFor();
    await screens(page, '12a-websites');

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByLabel('Website', { exact: true }).selectOption({ label: website.name });
    await page
      .getByRole('img', { name: /Invitations per day from .*: 200 created, 200 sent, 0 redeemed, 0 expired/ })
      .waitFor();
    await screens(page, '13-dashboard');

    // Mail that cannot go out and jobs that failed for good are the first thing the dashboard says.
    const since = new Date(Date.now() - 120_000).toISOString();
    await h.deps.db
      .updateTable('mail_state')
      .set({
        trouble: 'unreachable',
        trouble_since: since,
        trouble_reply: 'connect ECONNREFUSED 127.0.0.1:25',
        next_probe_at: new Date(Date.now() + 15_000).toISOString(),
        probe_delay_ms: 15_000,
      })
      .execute();
    const [deadJob] = await enqueue(h.deps.db, h.deps.now(), { type: 'workflow.run', payload: {} });
    await h.deps.db
      .updateTable('jobs')
      .set({
        status: 'dead',
        attempts: 1,
        last_error: 'No handler for job type workflow.run in this release of Admit',
      })
      .where('id', '=', deadJob as string)
      .execute();
    await page.reload();
    const alert = page.getByRole('alert', { name: 'Mail status' });
    await alert
      .getByText('The mail server cannot be reached; delivery resumes by itself when it answers.')
      .waitFor();
    await alert.getByText('Last reply: connect ECONNREFUSED 127.0.0.1:25').waitFor();
    await page.getByText('1 background job failed for good').click();
    await page.getByText(/workflow\.run, .*after 1 attempt: No handler for job type workflow\.run/).waitFor();
    await screens(page, '14-system-status');
    await h.deps.db
      .updateTable('mail_state')
      .set({
        trouble: null,
        trouble_since: null,
        trouble_reply: null,
        next_probe_at: null,
        probe_delay_ms: null,
      })
      .execute();
    await context.close();
  });

  it('imports a file too large for one request and invites every matching contact, each with its progress', async () => {
    const website = await makeWebsite(h, { name: 'Scale Portal' });
    const { context, page } = await signedIn();

    await page.getByRole('link', { name: 'Contacts' }).click();
    const lines = ['firstName,lastName,email'];
    for (let i = 1; i <= 10_001; i++) lines.push(`Many${i},Scaler,many${i}@example.test`);
    lines.push('Broken,Scaler,not-an-email');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'many.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${lines.join('\n')}\n`),
    });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const imported = page.getByRole('region', { name: 'Import: done' });
    await imported.waitFor({ timeout: 60_000 });
    await imported.getByText('10,002 of 10,002 — 10001 created, 0 skipped, 1 failed.').waitFor();
    assert.match(
      await imported.getByRole('table', { name: 'Not done' }).getByRole('row').nth(1).innerText(),
      /^10003\s+\/email is not an email address/,
      'the bad line, its number and why',
    );

    await page.getByLabel('Search contacts').fill('Scaler');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'many10001@example.test' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select every contact on this page' }).check();
    await page.getByRole('button', { name: 'Select all 10,001 contacts matching “Scaler”' }).click();
    await page.getByRole('button', { name: 'Create Invitation for 10,001 selected' }).click();
    await page.getByLabel('Website', { exact: true }).selectOption({ label: website.name });
    await page.getByRole('button', { name: 'Create Invitation', exact: true }).click();
    await page.getByText('Inviting 10001 contacts.').waitFor();
    await page.getByRole('region', { name: 'Invitations: in progress' }).waitFor();
    await screens(page, '15-operation-progress');
    const done = page.getByRole('region', { name: 'Invitations: done' });
    await done.waitFor({ timeout: 60_000 });
    await done.getByText('10,001 of 10,001 — 10001 invitations created, 0 not invited.').waitFor();
    const invited = ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}&limit=1`));
    assert.equal(invited.items.length, 1);
    await context.close();
  });

  it('builds a workflow in the step editor, runs it on a contact, and sets up a webhook endpoint', async () => {
    const website = await makeWebsite(h, { name: 'Workflow Portal' });
    await makeWebRole(h, website.id, 'Member');
    const contact = ok<Json>(
      await h.api('POST', '/api/v1/contacts', {
        firstName: 'Grace',
        lastName: 'Hopper',
        email: 'grace.wf@example.test',
      }),
      201,
    );
    const { context, page } = await signedIn();

    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'New workflow' }).click();
    await page.getByRole('heading', { name: 'New workflow' }).waitFor();
    await page.getByLabel('Name').fill('Welcome members');
    await page.getByLabel('New step').selectOption({ label: 'Wait' });
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByLabel(/^Duration/).fill('P2Y');
    await page.getByLabel('New step').selectOption({ label: 'Call a webhook' });
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByLabel(/^URL \(https/).fill('https://127.0.0.1/hook');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    // The server names each bad step; each message shows under its step.
    const fieldError = page.locator('li.step p.error');
    await fieldError.getByText(/Step 1 \(wait\): "P2Y" is not a duration/).waitFor();
    await fieldError.getByText(/Step 2 \(call-webhook\): the URL points at a loopback/).waitFor();
    await screens(page, '9a-workflow-invalid');
    await page.getByRole('button', { name: 'Remove step 2' }).click();
    // The messages named steps by place: once the steps change places, none is left behind.
    assert.equal(await fieldError.count(), 0);
    await page.getByLabel(/^Duration/).fill('PT1S');
    await page.getByLabel('Limited to the website').selectOption({ label: website.name });
    await page.getByLabel('New step').selectOption({ label: 'Add web roles' });
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByLabel('Member').check();
    await page.getByRole('button', { name: 'Move step 2 up' }).click();
    await page.getByLabel('New step').selectOption({ label: 'Set contact fields' });
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByLabel('Clear Email 2').check();
    assert.equal(await page.getByLabel('Email 2 (empty: unchanged)').isDisabled(), true);
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByRole('heading', { name: 'Welcome members' }).waitFor();
    await page.getByText('Version 1, active.').waitFor();
    await screens(page, '9b-workflow');
    const saved = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/workflows?limit=500')).items.find(
      (w) => w.name === 'Welcome members',
    ) as Json;
    assert.deepEqual(
      saved.steps.map((st: Json) => st.type),
      ['add-web-roles', 'wait', 'set-contact-fields'],
    );
    assert.deepEqual(saved.steps[2].fields, { email2: null });

    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByLabel('Search contacts').fill('grace.wf');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'grace.wf@example.test' }).waitFor();
    await page.getByRole('checkbox', { name: /Grace Hopper/ }).check();
    await page.getByLabel('Workflow to run').selectOption({ label: 'Welcome members' });
    await page.getByRole('button', { name: 'Run workflow on 1 selected' }).click();
    assert.match(await answer(page, true), /Run Welcome members on 1 contact/);
    await page.getByText('Started 1 run(s) of Welcome members.').waitFor();
    await eventually(async () => {
      const [run] = ok<Json>(await h.api('GET', `/api/v1/workflow-runs?contactId=${contact.id}`)).items;
      return run?.status === 'succeeded';
    });
    await page.getByRole('link', { name: 'Grace Hopper' }).click();
    const runs = page.getByRole('region', { name: 'Workflow runs of Grace Hopper' });
    await runs.getByText('Succeeded').waitFor();
    await runs.getByText('Log', { exact: true }).click();
    await runs.getByText(/Step 1 \(add-web-roles\): Added 1 web role/).waitFor();
    await screens(page, '9c-contact-runs');

    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByLabel('URL (https)').fill('http://127.0.0.1/hook');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page
      .getByRole('alert')
      .getByText(/The URL (must use https|points at a loopback)/)
      .waitFor();
    await page.getByLabel('URL (https)').fill('https://crm.example.com/admit-events');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText(/The signing secret, shown this once/).waitFor();
    const secret = await page.locator('code').first().innerText();
    assert.match(secret, /^whsec_/);
    await screens(page, '9d-webhooks');
    await page.getByRole('link', { name: 'https://crm.example.com/admit-events' }).click();
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText('Test event sent.').waitFor();
    await page.getByText('webhook_endpoint.test').waitFor();
    await screens(page, '9e-webhook-endpoint');
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
    await context.close();
  });

  it("adds an identity provider on a website's page; the secret never shows again", async () => {
    const website = await makeWebsite(h, { name: 'Federated Portal' });
    const { context, page } = await signedIn();
    await page.getByRole('link', { name: 'Websites' }).click();
    await page.getByRole('link', { name: 'Federated Portal' }).click();
    await page.getByRole('heading', { name: 'Identity providers' }).waitFor();
    await page.getByText(`${website.baseUrl}/oidc/callback`).waitFor();
    const form = page.getByRole('form', { name: 'New identity provider' });
    await form.getByLabel('Display name').fill('Contoso Entra');
    await form.getByLabel(/^Issuer URL/).fill('http://login.contoso.example/v2.0');
    await form.getByLabel('Client ID').fill('admit-portal');
    await form.getByLabel(/^Client secret/).fill('entra-client-secret-value');
    await form.getByRole('button', { name: 'Add provider' }).click();
    await page
      .getByRole('alert')
      .getByText(/issuer must be an https URL/)
      .waitFor();
    await form.getByLabel(/^Issuer URL/).fill('https://login.contoso.example/v2.0');
    await form.getByRole('checkbox', { name: /Trust its verified emails/ }).check();
    await form.getByRole('button', { name: 'Add provider' }).click();
    assert.match(await answer(page, true), /Trust Contoso Entra's verified emails\?/);
    await page.getByText('Added Contoso Entra.').waitFor();
    const table = page.getByRole('table', { name: 'Identity providers' });
    await table.getByRole('cell', { name: 'trusted', exact: true }).waitFor();
    await screens(page, '10a-identity-providers');
    assert.ok(!(await page.content()).includes('entra-client-secret-value'), 'the secret is not shown');

    await page.getByRole('button', { name: 'Edit Contoso Entra' }).click();
    const edit = page.getByRole('form', { name: 'Edit Contoso Entra' });
    await edit.getByLabel(/^Button label/).fill('Sign in with Contoso');
    await edit.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('Saved Contoso Entra.').waitFor();
    await page.getByRole('button', { name: 'Disable Contoso Entra' }).click();
    await answer(page, true);
    await page.getByText('Disabled Contoso Entra.').waitFor();
    await screens(page, '10b-identity-provider-disabled');
    const [stored] = ok<Json>(await h.api('GET', `/api/v1/websites/${website.id}/identity-providers`))
      .items as Json[];
    assert.equal(stored?.buttonLabel, 'Sign in with Contoso');
    assert.equal(stored?.enabled, false);
    assert.equal(stored?.trustEmailVerified, true);
    await context.close();
  });

  it('an operator invited by email chooses a password from the link, signs in, and sees what operators may change', async () => {
    const website = await makeWebsite(h, { name: 'Operated Portal' });
    const { context, page } = await signedIn();
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Olive Operator');
    await page.getByLabel('Email', { exact: true }).fill('olive.console@example.test');
    await page.getByRole('button', { name: 'Invite user' }).click();
    await page.getByText(/Invited Olive Operator: olive\.console@example\.test gets a link/).waitFor();
    await page.getByRole('combobox', { name: 'Role of Olive Operator' }).waitFor();
    await context.close();

    const [token] = await userLinkTokens(h, 'olive.console@example.test');
    const olive = await browser.newContext({ bypassCSP: true });
    const op = await olive.newPage();
    await op.goto(`${origin}/admin#/set-password/${token}`);
    await op.getByRole('heading', { name: 'Welcome to Admit' }).waitFor();
    await op
      .getByText(/Olive Operator, choose the password you will sign in with as olive\.console@example\.test/)
      .waitFor();
    await screens(op, '11a-set-password');
    await op.getByLabel('New password').fill('olive operator passphrase');
    await op.getByLabel('Confirm the password').fill('olive operator passphrase');
    await op.getByRole('button', { name: 'Set my password' }).click();
    await op.getByText(/Your password is set/).waitFor();
    await op.getByRole('button', { name: 'Sign in' }).click();
    await op.getByLabel('Email').fill('olive.console@example.test');
    await op.getByLabel('Password').fill('olive operator passphrase');
    await op.getByRole('button', { name: 'Sign in' }).click();
    await op.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal(await op.getByRole('link', { name: 'Users' }).count(), 0, 'no Users screen for operators');
    await op.getByRole('link', { name: 'Websites' }).click();
    assert.equal(await op.getByRole('button', { name: 'Create website' }).count(), 0);
    await op.getByRole('link', { name: 'Operated Portal' }).click();
    await op.getByText("Only administrators change a website's settings.").waitFor();
    assert.equal(await op.getByRole('button', { name: 'Save settings' }).count(), 0);
    await screens(op, '11b-operator-website');
    // The console's export link downloads with the console's session.
    await op.getByRole('link', { name: 'Contacts' }).click();
    const href = await op.getByRole('link', { name: 'Export all contacts as CSV' }).getAttribute('href');
    const csv = await op.request.get(`${origin}${href}`);
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-type'] ?? '', /^text\/csv/);
    assert.match(await csv.text(), /^id,firstName,lastName,email/);
    // The link worked once.
    await op.goto(`${origin}/admin#/set-password/${token}`);
    await op.reload();
    await op.getByText(/This link has expired or was already used/).waitFor();
    await olive.close();
    assert.ok(website.id);
  });
});
