import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, it } from 'node:test';
import { AUDIT_ACTIONS, type AuditAction } from '../../src/modules/events/audit.actions.ts';
import { eventually } from '../support/eventually.ts';
import {
  type Json,
  makeContact,
  makeInvitation,
  makeSingle,
  makeWebsite,
  ok,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { land, makeMember, outboxLink, PASSWORD, pathOf, registration, signInAs } from '../support/portal.ts';
import { PortalClient } from '../support/portal-client.ts';
import { TEST_CLIENT, TestIdp } from '../support/test-idp.ts';
import { userLinkTokens } from '../support/user-links.ts';
import { setPasswordForTest } from '../support/users.ts';

/**
 * Every action of the audit catalogue (events/audit.actions.ts) is recorded once, with its actor,
 * by the change it names. A new action without a case here fails the last assertion.
 */
onBothDatabases('the audit catalogue', (dialect) => {
  let h: Harness;
  let idp: TestIdp;
  const idpSlug = `audited-idp-${rand()}`;
  before(async () => {
    h = await startHarness(dialect, {
      worker: true,
      env: {
        ADMIT_RATE_LIMIT_PER_IP: '100000',
        ADMIT_RATE_LIMIT_PER_CODE: '100000',
        ADMIT_OIDC_ALLOW_HTTP: 'true',
      },
    });
    idp = await new TestIdp(
      { 'audited-person': { email: 'audited.person@example.test', email_verified: true } },
      [`http://portal.test/portal/${idpSlug}/oidc/callback`],
    ).start();
  });
  after(async () => {
    await idp.stop();
    await h.close();
  });

  const covered = new Set<AuditAction>();
  const recent = async () =>
    ok<{ items: Json[] }>(await h.api('GET', '/api/v1/audit-events?limit=500')).items;
  /** Runs `change`; exactly one `action` event is new, with an actor of `actorType`. */
  async function once<T>(
    action: AuditAction,
    actorType: 'user' | 'contact' | 'system',
    change: () => Promise<T>,
  ) {
    // By id, not by order: an aggregate event's id sorts at the start of its minute.
    const known = new Set((await recent()).map((e) => e.id));
    const result = await change();
    const fresh = (await recent()).filter((e) => !known.has(e.id) && e.action === action);
    assert.equal(fresh.length, 1, `${action}: ${fresh.length} events`);
    assert.equal(fresh[0]?.actor.type, actorType, action);
    if (actorType === 'user') assert.ok(fresh[0]?.actor.id, `${action} names its user`);
    covered.add(action);
    return result;
  }

  it('records each action once, with its actor', async () => {
    const call = async (
      method: 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'GET',
      url: string,
      body?: unknown,
      status = 200,
    ) => ok<Json>(await h.api(method, url, body), status);

    // Websites, web roles, web pages.
    const website = await once('website.created', 'user', () =>
      call('POST', '/api/v1/websites', { name: 'Audited', slug: `audited-${rand()}` }, 201),
    );
    await once('website.updated', 'user', () =>
      call('PATCH', `/api/v1/websites/${website.id}`, { name: 'Audited 2' }),
    );
    const role = await once('web_role.created', 'user', () =>
      call('POST', `/api/v1/websites/${website.id}/web-roles`, { name: 'R' }, 201),
    );
    await once('web_role.updated', 'user', () =>
      call('PATCH', `/api/v1/web-roles/${role.id}`, { name: 'R2' }),
    );
    const page = await once('web_page.created', 'user', () =>
      call('POST', `/api/v1/websites/${website.id}/web-pages`, { path: 'p', title: 'P', content: 'x' }, 201),
    );
    await once('web_page.updated', 'user', () =>
      call('PATCH', `/api/v1/web-pages/${page.id}`, { title: 'P2' }),
    );
    await once('web_page.deleted', 'user', () =>
      call('DELETE', `/api/v1/web-pages/${page.id}`, undefined, 204),
    );

    const spareRole = ok<Json>(
      await h.api('POST', `/api/v1/websites/${website.id}/web-roles`, { name: 'S' }),
      201,
    );
    await once('web_role.deleted', 'user', () =>
      call('DELETE', `/api/v1/web-roles/${spareRole.id}`, undefined, 204),
    );

    // Accounts and contacts.
    const account = await once('account.created', 'user', () =>
      call('POST', '/api/v1/accounts', { name: 'A' }, 201),
    );
    await once('account.updated', 'user', () =>
      call('PATCH', `/api/v1/accounts/${account.id}`, { name: 'A2' }),
    );
    await once('account.deleted', 'user', () =>
      call('DELETE', `/api/v1/accounts/${account.id}`, undefined, 204),
    );
    const contact = await once('contact.created', 'user', () =>
      call(
        'POST',
        '/api/v1/contacts',
        { firstName: 'C', lastName: 'D', email: `c.${rand()}@example.test` },
        201,
      ),
    );
    await once('contact.updated', 'user', () =>
      call('PATCH', `/api/v1/contacts/${contact.id}`, { firstName: 'E' }),
    );
    await once('contact.website_access_granted', 'user', () =>
      call('POST', `/api/v1/contacts/${contact.id}/websites`, { websiteId: website.id }, 201),
    );
    await once('contact.website_access_removed', 'user', () =>
      call('DELETE', `/api/v1/contacts/${contact.id}/websites/${website.id}`, undefined, 204),
    );
    await once('contact.deleted', 'user', () =>
      call('DELETE', `/api/v1/contacts/${contact.id}`, undefined, 204),
    );
    await once('contact.imported', 'user', async () =>
      ok(
        await h.api(
          'POST',
          '/api/v1/contacts/import',
          `firstName,lastName,email\nI,M,im.${rand()}@example.test\n`,
          {
            'content-type': 'text/csv',
          },
        ),
      ),
    );

    // Invitations.
    const invited = await makeContact(h);
    const inv = await once('invitation.created', 'user', () =>
      call(
        'POST',
        '/api/v1/invitations',
        { type: 'single', websiteId: website.id, invitedContactIds: [invited.id] },
        201,
      ),
    );
    await once('invitation.updated', 'user', () =>
      call('PATCH', `/api/v1/invitations/${inv.id}`, { name: 'N' }),
    );
    await once('invitation.code_revealed', 'user', () => call('GET', `/api/v1/invitations/${inv.id}/code`));
    await once('invitation.send_requested', 'user', () =>
      call('POST', `/api/v1/invitations/${inv.id}/send`, undefined, 202),
    );
    const fresh = await once('invitation.code_regenerated', 'user', () =>
      call('POST', `/api/v1/invitations/${inv.id}/regenerate-code`),
    );
    await once('invitation.deactivated', 'user', () =>
      call('POST', `/api/v1/invitations/${inv.id}/deactivate`),
    );
    await once('invitation.redemption_refused', 'contact', async () => {
      const b = new PortalClient(h);
      await b.get(`/portal/${website.slug}/redeem`);
      await b.post(`/portal/${website.slug}/redeem`, { code: fresh.code });
    });
    await once('invitation.activated', 'user', () => call('POST', `/api/v1/invitations/${inv.id}/activate`));
    await once('invitation.redeemed', 'contact', async () => {
      const b = new PortalClient(h);
      await land(b, website.slug, fresh.code);
      await b.post(`/portal/${website.slug}/register`, registration(invited.email));
    });
    const spare = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 2 });
    await once('invitation.deleted', 'user', () =>
      call('DELETE', `/api/v1/invitations/${spare.id}`, undefined, 204),
    );
    const group = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 2,
      invitedContactIds: [(await makeContact(h)).id],
    });
    const groupInvited = ok<Json>(await h.api('GET', `/api/v1/contacts/${group.invitedContactIds[0]}`));
    await once('invitation.registration_held', 'contact', async () => {
      const b = new PortalClient(h);
      await land(b, website.slug, group.code);
      await b.post(`/portal/${website.slug}/register`, registration(groupInvited.email));
    });

    // The portal's own: registration, profile, email confirmation, password reset.
    const open = await makeWebsite(h, { settings: { openRegistrationEnabled: true } });
    const registrant = new PortalClient(h);
    const email = `reg.${rand()}@example.test`;
    await once('contact.registered', 'contact', async () => {
      await registrant.get(`/portal/${open.slug}/register`);
      await registrant.post(`/portal/${open.slug}/register`, registration(email));
    });
    await once('contact.email_confirmed', 'contact', async () => {
      const link = await outboxLink(h, email, 'confirm-email');
      await registrant.get(pathOf(link));
      await registrant.post(`/portal/${open.slug}/confirm-email`, {
        token: new URL(link).searchParams.get('token') as string,
        password: PASSWORD,
      });
    });
    await once('contact.profile_updated', 'contact', async () => {
      await registrant.get(`/portal/${open.slug}/profile`);
      await registrant.post(`/portal/${open.slug}/profile`, { firstName: 'Reg', lastName: 'Istrant', email });
    });
    const member = await makeMember(h, {}, [open.id]);
    await once('contact.password_reset', 'contact', async () => {
      const b = new PortalClient(h);
      await b.get(`/portal/${open.slug}/forgot-password`);
      await b.post(`/portal/${open.slug}/forgot-password`, { email: member.email });
      const link = await outboxLink(h, member.email, 'reset-password');
      await b.get(pathOf(link));
      const next = `another passphrase ${rand()}`;
      await b.post(`/portal/${open.slug}/reset-password`, {
        token: new URL(link).searchParams.get('token') as string,
        password: next,
        confirmPassword: next,
      });
    });
    assert.equal((await signInAs(new PortalClient(h), open.slug, member.username, PASSWORD)).statusCode, 401);

    // Email, mail, templates and workflows.
    const sent = await makeSingle(h);
    ok(await h.api('POST', `/api/v1/invitations/${sent.invitation.id}/send`), 202);
    const emailRow = await (async () => {
      for (let i = 0; i < 100; i++) {
        const items = ok<{ items: Json[] }>(
          await h.api('GET', `/api/v1/emails?invitationId=${sent.invitation.id}`),
        ).items;
        if (items[0]?.status === 'sent') return items[0];
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the email was not sent');
    })();
    await h.deps.db
      .updateTable('emails')
      .set({ status: 'failed', last_error: '550 test' })
      .where('id', '=', emailRow.id)
      .execute();
    await once('email.retried', 'user', () =>
      call('POST', `/api/v1/emails/${emailRow.id}/retry`, undefined, 202),
    );
    await once('mail.resumed', 'user', () => call('POST', '/api/v1/mail/resume'));
    const workflow = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/workflows')).items.find(
      (w) => w.key === 'send-invitation',
    ) as Json;
    await once('workflow.deactivated', 'user', () =>
      call('POST', `/api/v1/workflows/${workflow.id}/deactivate`),
    );
    await once('workflow.updated', 'user', () =>
      call('PATCH', `/api/v1/workflows/${workflow.id}`, { name: 'Send' }),
    );
    const template = ok<Json>(await h.api('GET', `/api/v1/email-templates/${workflow.templateId}`));
    await once('email_template.updated', 'user', () =>
      call('PUT', `/api/v1/email-templates/${template.id}`, {
        name: template.name,
        subject: template.subject,
        html: template.html,
        text: template.text,
      }),
    );
    await once('workflow.activated', 'user', () => call('POST', `/api/v1/workflows/${workflow.id}/activate`));

    // Workflows of steps and their runs.
    await once('email_template.created', 'user', () =>
      call(
        'POST',
        '/api/v1/email-templates',
        { name: 'Welcome', subject: 'Hi', html: '<p>Hi</p>', text: 'Hi' },
        201,
      ),
    );
    const custom = await once('workflow.created', 'user', () =>
      call(
        'POST',
        '/api/v1/workflows',
        { name: 'Audited workflow', steps: [{ type: 'send-email', templateId: template.id }] },
        201,
      ),
    );
    await once('workflow.signing_secret_revealed', 'user', () =>
      call('GET', `/api/v1/workflows/${custom.id}/signing-secret`),
    );
    const mailless = await call('POST', '/api/v1/contacts', { firstName: 'No', lastName: 'Mail' }, 201);
    const started = await once('workflow_run.started', 'user', () =>
      call('POST', '/api/v1/workflow-runs', { workflowId: custom.id, contactIds: [mailless.id] }, 201),
    );
    const failedRun = started.items[0] as Json;
    await eventually(
      async () => (await call('GET', `/api/v1/workflow-runs/${failedRun.id}`)).status === 'failed',
    );
    await once('workflow_run.retried', 'user', () =>
      call('POST', `/api/v1/workflow-runs/${failedRun.id}/retry`),
    );
    await eventually(
      async () => (await call('GET', `/api/v1/workflow-runs/${failedRun.id}`)).status === 'failed',
    );
    const waiting = await call(
      'POST',
      '/api/v1/workflows',
      { name: 'Waits', steps: [{ type: 'wait', duration: 'P1D' }] },
      201,
    );
    const [toCancel] = (
      await call('POST', '/api/v1/workflow-runs', { workflowId: waiting.id, contactIds: [mailless.id] }, 201)
    ).items as Json[];
    await once('workflow_run.cancelled', 'user', () =>
      call('POST', `/api/v1/workflow-runs/${toCancel?.id}/cancel`),
    );
    const unused = await call('POST', '/api/v1/workflows', { name: 'Unused', steps: [] }, 201);
    await once('workflow.deleted', 'user', () =>
      call('DELETE', `/api/v1/workflows/${unused.id}`, undefined, 204),
    );

    // Webhook endpoints (this machine's own name resolves to loopback: every attempt is refused).
    const endpoint = await once('webhook_endpoint.created', 'user', () =>
      call(
        'POST',
        '/api/v1/webhook-endpoints',
        { url: `https://${hostname()}:1/hook`, eventTypes: ['*'] },
        201,
      ),
    );
    await once('webhook_endpoint.updated', 'user', () =>
      call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { description: 'Audited' }),
    );
    await once('webhook_endpoint.secret_rotated', 'user', () =>
      call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {}),
    );
    const test = await once('webhook_endpoint.tested', 'user', () =>
      call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/test`, undefined, 202),
    );
    await eventually(
      async () => (await call('GET', `/api/v1/webhook-endpoints/${endpoint.id}`)).failingSince ?? false,
    );
    // Failing every 11 hours (a longer silence would start a new streak) for more than five days.
    const step = 11 * 3600 * 1000;
    let moved = 0;
    /** True once the delivery has an attempt made at or after `since` (the test clock). */
    const triedSince = async (since: string) =>
      (await h.deps.db
        .selectFrom('webhook_attempts')
        .select('id')
        .where('delivery_id', '=', test.id)
        .where('at', '>=', since)
        .executeTakeFirst()) !== undefined;
    try {
      for (let i = 0; i < 10; i++) {
        h.advance(step);
        moved += step;
        const since = h.deps.now().toISOString();
        await call('POST', `/api/v1/webhook-deliveries/${test.id}/replay`, undefined, 202);
        await eventually(() => triedSince(since));
      }
      h.advance(step);
      moved += step;
      await once('webhook_delivery.replayed', 'user', () =>
        call('POST', `/api/v1/webhook-deliveries/${test.id}/replay`, undefined, 202),
      );
      await once('webhook_endpoint.disabled', 'system', () =>
        eventually(
          async () => (await call('GET', `/api/v1/webhook-endpoints/${endpoint.id}`)).enabled === false,
        ),
      );
    } finally {
      h.advance(-moved);
    }
    await once('webhook_endpoint.deleted', 'user', () =>
      call('DELETE', `/api/v1/webhook-endpoints/${endpoint.id}`, undefined, 204),
    );

    // Identity providers, and a contact linking and unlinking one from the profile.
    const site = await call('POST', '/api/v1/websites', { name: 'With IdP', slug: idpSlug }, 201);
    const provider = await once('identity_provider.created', 'user', () =>
      call(
        'POST',
        `/api/v1/websites/${site.id}/identity-providers`,
        {
          displayName: 'Test IdP',
          issuer: idp.issuer,
          clientId: TEST_CLIENT.id,
          clientSecret: TEST_CLIENT.secret,
        },
        201,
      ),
    );
    await once('identity_provider.updated', 'user', () =>
      call('PATCH', `/api/v1/identity-providers/${provider.id}`, { trustEmailVerified: true }),
    );
    const linking = await makeMember(h, {}, [site.id]);
    const browser = new PortalClient(h);
    await browser.follow(await signInAs(browser, idpSlug, linking.username));
    await browser.get(`/portal/${idpSlug}/profile`);
    await once('contact.external_login_linked', 'contact', async () => {
      const go = await browser.post(`/portal/${idpSlug}/profile/external-logins`, { provider: provider.id });
      const url = (/content="0;url=([^"]+)"/.exec(go.body)?.[1] ?? '').replace(/&amp;/g, '&');
      const back = await browser.get(pathOf(await idp.signIn(url, 'audited-person')));
      assert.equal(back.statusCode, 303, back.body);
    });
    const [linked] = (await call('GET', `/api/v1/contacts/${linking.id}`)).externalLogins as Json[];
    await browser.get(`/portal/${idpSlug}/profile`);
    await once('contact.external_login_unlinked', 'contact', async () => {
      const res = await browser.post(`/portal/${idpSlug}/profile/external-logins/${linked?.id}/delete`, {});
      assert.equal(res.statusCode, 303);
    });
    await once('identity_provider.deleted', 'user', () =>
      call('DELETE', `/api/v1/identity-providers/${provider.id}`, undefined, 204),
    );

    // Back-office users and API keys.
    const user = await once('user.created', 'user', () =>
      call(
        'POST',
        '/api/v1/users',
        { name: 'Op', email: `op.${rand()}@example.test`, role: 'operator' },
        201,
      ),
    );
    await once('user.updated', 'user', () => call('PATCH', `/api/v1/users/${user.id}`, { name: 'Op 2' }));
    await once('user.invited', 'user', () => call('POST', `/api/v1/users/${user.id}/invite`, undefined, 202));
    await once('user.password_reset_requested', 'system', () =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/session/forgot-password',
        payload: { email: user.email },
      }),
    );
    const [, , reset] = await userLinkTokens(h, user.email, 3);
    await once('user.password_set', 'user', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/session/set-password',
        payload: { token: reset, password: 'the reset passphrase' },
      });
      assert.equal(res.statusCode, 200, res.body);
    });
    const key = await once('api_key.created', 'user', () =>
      call('POST', '/api/v1/api-keys', { name: 'k', userId: user.id }, 201),
    );
    await once('api_key.deleted', 'user', () => call('DELETE', `/api/v1/api-keys/${key.id}`, undefined, 204));
    await setPasswordForTest(h, user.id, 'the operator passphrase');
    await once('user.password_changed', 'user', async () => {
      const signIn = await h.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: user.email, password: 'the operator passphrase' },
      });
      const cookie = signIn.cookies.find((c) => c.name === 'admit_admin');
      const csrf = (signIn.json() as Json).csrfToken as string;
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/session/password',
        headers: { cookie: `admit_admin=${cookie?.value}`, 'x-csrf-token': csrf },
        payload: { currentPassword: 'the operator passphrase', newPassword: `a new passphrase ${rand()}` },
      });
      assert.ok(res.statusCode < 300, res.body);
    });

    assert.deepEqual(
      Object.keys(AUDIT_ACTIONS).filter((a) => !covered.has(a as AuditAction)),
      [],
      'every action of the catalogue has a case here',
    );
  });
});
