import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { enqueue } from '../../src/jobs/enqueue.ts';
import { DELIVER_JOB } from '../../src/modules/emails/email.ts';
import { redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import { eventually } from '../support/eventually.ts';
import {
  emailWhen,
  inviteAndSend,
  type Json,
  makeContact,
  makeInvitation,
  makeSignedInContact,
  makeWebsite,
  ok,
  problem,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { makeMember } from '../support/portal.ts';
import { PortalClient } from '../support/portal-client.ts';
import { SmtpSink } from '../support/smtp-sink.ts';

onBothDatabases('sending invitations through SMTP', (dialect) => {
  let h: Harness;
  const sink = new SmtpSink();
  let sendWorkflow: Json;
  let templateId: string;

  before(async () => {
    await sink.start();
    h = await startHarness(dialect, {
      worker: true,
      env: { SMTP_URL: sink.url, MAIL_FROM: 'Partner Portal <portal@example.test>' },
    });
    sendWorkflow = ok<Json>(await h.api('GET', '/api/v1/workflows')).items.find(
      (w: Json) => w.key === 'send-invitation',
    );
    templateId = sendWorkflow.templateId;
  });
  after(async () => {
    await h.close();
    await sink.stop();
  });

  const to = (address: string) => sink.messages.filter((m) => m.to.includes(address));
  const emailsOf = async (invitationId: string) =>
    ok<Json>(await h.api('GET', `/api/v1/emails?invitationId=${invitationId}`)).items as Json[];
  const linkIn = (text: string) => /https?:\/\/\S+invitation=[0-9A-Z-]+/.exec(text)?.[0];

  it('delivers one message to the primary email only, with our Message-ID, From, escaped names and a link that redeems', async () => {
    const website = await makeWebsite(h, { name: 'Partners & Co' });
    const contact = await makeContact(h, {
      firstName: '<b>Ada</b>',
      lastName: 'O"Neil',
      email2: `second.${rand()}@example.test`,
      email3: `third.${rand()}@example.test`,
    });
    const created = await inviteAndSend(h, website.id, contact.id);
    assert.equal(created.send.status, 'queued');
    await eventually(() => to(contact.email).length === 1, 15_000, 'the message');
    const m = to(contact.email)[0] as (typeof sink.messages)[number];
    assert.deepEqual(m.to, [contact.email], 'envelope: primary email only');
    assert.equal(m.headers.get('to'), contact.email);
    assert.equal(m.headers.has('cc'), false);
    assert.equal(m.headers.has('bcc'), false);
    assert.ok(!m.raw.includes(contact.email2) && !m.raw.includes(contact.email3));
    assert.equal(
      m.headers.get('from'),
      'Partner Portal <portal@example.test>',
      'the owner has no usable address, so MAIL_FROM',
    );
    assert.equal(m.headers.get('subject'), "You're invited to Partners & Co");
    // The sink has the message a moment before the worker records it as sent.
    const email = await emailWhen(h, created.id, 'sent');
    assert.equal(m.headers.get('message-id'), email.messageId);
    assert.ok(!('html' in email) && !('text' in email), 'lists carry no bodies');
    assert.match(m.html, /Hello &lt;b&gt;Ada&lt;\/b&gt;,/);
    assert.ok(!m.html.includes('<b>Ada</b>'));
    assert.match(m.text, /Hello <b>Ada<\/b>,/, 'the text part is not HTML');
    const link = linkIn(m.text);
    assert.equal(link, created.redemptionUrl);
    assert.ok(m.html.includes(`href="${created.redemptionUrl.replace(/&/g, '&amp;')}"`));
    const code = new URL(link as string).searchParams.get('invitation') as string;
    ok(await h.api('PATCH', `/api/v1/contacts/${contact.id}`, { loginEnabled: true }));
    await redeemInvitation(h.deps, {
      websiteId: website.id,
      code,
      redeemer: { kind: 'contact', contactId: contact.id, method: 'signin' },
      ipAddress: null,
      userAgent: null,
    });
    const inv = ok<Json>(await h.api('GET', `/api/v1/invitations/${created.id}`));
    assert.equal(inv.statusReason, 'redeemed');
    await eventually(
      async () => ok<Json>(await h.api('GET', `/api/v1/invitations/${created.id}`)).lastSentAt,
      15_000,
      'lastSentAt',
    );
    // What GET /emails/{id} shows (the outbox view): the stored copy, as sent, code masked.
    const stored = ok<Json>(await h.api('GET', `/api/v1/emails/${email.id}`));
    assert.equal(stored.subject, "You're invited to Partners & Co");
    assert.ok(
      stored.html?.includes('Ada') && !stored.html.includes(code) && !stored.text?.includes(code),
      'the stored copy has the code masked',
    );
  });

  it('keeps CR/LF that reached the database out of the headers', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    // The API refuses control characters; rows written some other way must still not inject headers.
    await h.deps.db
      .updateTable('websites')
      .set({ name: 'Evil\r\nBcc: victim@evil.test\r\nX-Injected: yes' })
      .where('id', '=', website.id)
      .execute();
    await h.deps.db
      .updateTable('contacts')
      .set({ first_name: 'Eve\r\nBcc: other@evil.test' })
      .where('id', '=', contact.id)
      .execute();
    ok(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
        send: true,
      }),
      201,
    );
    await eventually(() => to(contact.email).length === 1);
    const m = to(contact.email)[0] as (typeof sink.messages)[number];
    assert.deepEqual(m.to, [contact.email]);
    assert.equal(m.headers.has('bcc'), false);
    assert.equal(m.headers.has('x-injected'), false);
    assert.equal(m.headers.get('subject'), "You're invited to Evil Bcc: victim@evil.test X-Injected: yes");
    assert.ok(!sink.messages.some((x) => x.to.some((r) => r.endsWith('@evil.test'))));
  });

  it('sets status reason sent after the first accepted message, and a resend carries the same code', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [contact.id],
    });
    assert.equal(inv.statusReason, 'new');
    ok(await h.api('POST', `/api/v1/invitations/${inv.id}/send`), 202);
    await eventually(() => to(contact.email).length === 1);
    await eventually(
      async () => ok<Json>(await h.api('GET', `/api/v1/invitations/${inv.id}`)).status === 'sent',
      15_000,
      'status sent once the delivery is recorded',
    );
    ok(await h.api('POST', `/api/v1/invitations/${inv.id}/send`), 202);
    await eventually(() => to(contact.email).length === 2);
    const [first, second] = to(contact.email).map((m) => linkIn(m.text));
    assert.equal(first, second);
    assert.equal(first, inv.redemptionUrl);
    const [a, b] = to(contact.email).map((m) => m.headers.get('message-id'));
    assert.notEqual(a, b, 'each Email has its own Message-ID');
    const regenerated = ok<Json>(await h.api('POST', `/api/v1/invitations/${inv.id}/regenerate-code`));
    ok(await h.api('POST', `/api/v1/invitations/${inv.id}/send`), 202);
    await eventually(() => to(contact.email).length === 3);
    assert.equal(linkIn((to(contact.email)[2] as { text: string }).text), regenerated.redemptionUrl);
  });

  it('retries a 4xx and delivers exactly one message', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    sink.failNext(1, 451, '4.3.0 Temporary local problem, try again');
    const inv = await inviteAndSend(h, website.id, contact.id);
    const email = await emailWhen(h, inv.id, 'sent');
    assert.equal(email.attempts, 2);
    assert.equal(to(contact.email).length, 1);
  });

  it('fails a 5xx with the reason and does not retry it, until an administrator does', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    sink.failNext(1, 550, '5.1.1 Mailbox does not exist');
    const inv = await inviteAndSend(h, website.id, contact.id);
    const email = await emailWhen(h, inv.id, 'failed');
    assert.match(email.lastError, /5\.1\.1 Mailbox does not exist/);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(to(contact.email).length, 0);
    assert.equal(((await emailsOf(inv.id))[0] as Json).attempts, 1);
    assert.equal(
      ok<Json>(await h.api('GET', `/api/v1/invitations/${inv.id}`)).statusReason,
      'new',
      'nothing was accepted',
    );
    problem(
      await h.api('POST', '/api/v1/emails/00000000-0000-7000-8000-000000000000/retry'),
      404,
      'NOT_FOUND',
    );
    ok(await h.api('POST', `/api/v1/emails/${email.id}/retry`), 202);
    await eventually(() => to(contact.email).length === 1);
    problem(await h.api('POST', `/api/v1/emails/${email.id}/retry`), 409, 'EMAIL_NOT_RETRYABLE');
  });

  it('one email per invited contact; a contact without a primary email gets a failed Email, the others still go', async () => {
    const website = await makeWebsite(h);
    const a = await makeContact(h);
    const b = await makeContact(h);
    const none = await makeContact(h, { email: null });
    const inv = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      invitedContactIds: [a.id, b.id, none.id],
      maxRedemptions: 10,
    });
    const item = ok<Json>(await h.api('POST', `/api/v1/invitations/${inv.id}/send`), 202);
    assert.equal(item.failedNoPrimaryEmail, 1);
    await eventually(() => to(a.email).length === 1 && to(b.email).length === 1);
    const emails = await eventually(async () => {
      const list = await emailsOf(inv.id);
      return list.filter((e: Json) => e.status === 'sent').length === 2 ? list : undefined;
    });
    assert.deepEqual(emails.map((e: Json) => e.status).sort(), ['failed', 'sent', 'sent']);
    assert.equal(emails.find((e: Json) => e.status === 'failed')?.lastError, 'NO_PRIMARY_EMAIL');
    assert.equal(
      linkIn((to(a.email)[0] as { text: string }).text),
      linkIn((to(b.email)[0] as { text: string }).text),
      'a Group code is shared',
    );
  });

  it('sends many in one call, reporting each invitation that cannot be sent', async () => {
    const website = await makeWebsite(h);
    const signedIn = await makeSignedInContact(h);
    const good = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [(await makeContact(h)).id],
    });
    const inactive = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [(await makeContact(h)).id],
    });
    ok(await h.api('POST', `/api/v1/invitations/${inactive.id}/deactivate`));
    const redeemed = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [signedIn.id],
    });
    await redeemInvitation(h.deps, {
      websiteId: website.id,
      code: redeemed.code,
      redeemer: { kind: 'contact', contactId: signedIn.id, method: 'signin' },
      ipAddress: null,
      userAgent: null,
    });
    const expiring = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [(await makeContact(h)).id],
      expiresAt: new Date(Date.now() + 1000).toISOString(),
    });
    const empty = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 2 });
    const missing = '01936f4e-0000-7000-8000-00000000dead';
    h.advance(2000);
    try {
      const res = ok<Json>(
        await h.api('POST', '/api/v1/invitations/send', {
          ids: [good.id, inactive.id, redeemed.id, expiring.id, empty.id, missing],
        }),
        202,
      );
      const byId = new Map(res.items.map((i: Json) => [i.invitationId, i]));
      assert.equal((byId.get(good.id) as Json).status, 'queued');
      assert.equal((byId.get(inactive.id) as Json).code, 'INVITATION_NOT_SENDABLE');
      assert.equal((byId.get(redeemed.id) as Json).code, 'INVITATION_NOT_SENDABLE');
      assert.equal((byId.get(expiring.id) as Json).code, 'INVITATION_NOT_SENDABLE');
      assert.equal((byId.get(empty.id) as Json).code, 'NO_RECIPIENTS');
      assert.equal((byId.get(missing) as Json).code, 'NOT_FOUND');
      problem(await h.api('POST', `/api/v1/invitations/${inactive.id}/send`), 409, 'INVITATION_NOT_SENDABLE');
      problem(await h.api('POST', `/api/v1/invitations/${missing}/send`), 404, 'NOT_FOUND');
    } finally {
      h.advance(-2000);
    }
  });

  it('invites a list of contacts in one step: one Single invitation each, created and sent', async () => {
    const website = await makeWebsite(h);
    const contacts = await Promise.all(Array.from({ length: 20 }, () => makeContact(h)));
    const missing = '01936f4e-0000-7000-8000-00000000beef';
    const res = ok<Json>(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        contactIds: [...contacts.map((c) => c.id), missing],
        send: true,
      }),
      201,
    );
    assert.deepEqual([res.created, res.queued, res.rejected], [20, 20, 1]);
    assert.equal(res.items.find((i: Json) => i.contactId === missing).code, 'NOT_FOUND');
    await eventually(() => contacts.every((c) => to(c.email).length === 1), 20_000, '20 messages');
    const links = new Set(contacts.map((c) => linkIn((to(c.email)[0] as { text: string }).text)));
    assert.equal(links.size, 20, 'each contact its own code');
    // The invitations become `sent` when their delivery job records the outcomes, just after the sink has them.
    const list = await eventually(async () => {
      const l = ok<Json>(
        await h.api('GET', `/api/v1/invitations?websiteId=${website.id}&status=sent&limit=500`),
      );
      return l.items.length === 20 ? l : undefined;
    });
    assert.ok(list.items.every((i: Json) => i.type === 'single' && i.invitedContactIds.length === 1));
  });

  it('refuses sends while the workflow is deactivated, and allows edits only then', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [contact.id],
    });
    problem(
      await h.api('PATCH', `/api/v1/workflows/${sendWorkflow.id}`, {
        fromAddress: 'Team <team@example.test>',
      }),
      409,
      'WORKFLOW_ACTIVE',
    );
    const template = ok<Json>(await h.api('GET', `/api/v1/email-templates/${templateId}`));
    const edited = {
      name: template.name,
      subject: 'Welcome, {{ contact.firstName }}',
      html: `${template.html}<p>Edited</p>`,
      text: `${template.text}\nEdited`,
    };
    problem(await h.api('PUT', `/api/v1/email-templates/${templateId}`, edited), 409, 'WORKFLOW_ACTIVE');
    ok(await h.api('POST', `/api/v1/workflows/${sendWorkflow.id}/deactivate`));
    try {
      problem(await h.api('POST', `/api/v1/invitations/${inv.id}/send`), 409, 'WORKFLOW_INACTIVE');
      const before = ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}`)).items.length;
      problem(
        await h.api('POST', '/api/v1/invitations', {
          type: 'single',
          websiteId: website.id,
          invitedContactIds: [contact.id],
          send: true,
        }),
        409,
        'WORKFLOW_INACTIVE',
      );
      assert.equal(
        ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}`)).items.length,
        before,
        'nothing was created',
      );
      problem(
        await h.api('PUT', `/api/v1/email-templates/${templateId}`, { ...edited, html: '{% if %}' }),
        400,
        'VALIDATION_FAILED',
      );
      problem(
        await h.api('PUT', `/api/v1/email-templates/${templateId}`, {
          ...edited,
          text: '{{ contact.firstName | no_such_filter }}',
        }),
        400,
        'VALIDATION_FAILED',
      );
      ok(await h.api('PUT', `/api/v1/email-templates/${templateId}`, edited));
      ok(
        await h.api('PATCH', `/api/v1/workflows/${sendWorkflow.id}`, {
          fromAddress: 'Partner Team <team@example.test>',
        }),
      );
    } finally {
      ok(await h.api('POST', `/api/v1/workflows/${sendWorkflow.id}/activate`));
    }
    ok(await h.api('POST', `/api/v1/invitations/${inv.id}/send`), 202);
    await eventually(() => to(contact.email).length === 1);
    const m = to(contact.email)[0] as (typeof sink.messages)[number];
    assert.equal(m.headers.get('from'), 'Partner Team <team@example.test>');
    assert.equal(m.headers.get('subject'), `Welcome, ${contact.firstName}`);
    assert.match(m.text, /Edited/);
    const preview = ok<Json>(
      await h.api('POST', `/api/v1/email-templates/${templateId}/preview`, { invitationId: inv.id }),
    );
    assert.equal(preview.to, contact.email);
    assert.equal(preview.subject, `Welcome, ${contact.firstName}`);
    assert.ok(
      !preview.text.includes(inv.code) && preview.text.includes(inv.code.slice(0, 4)),
      'the preview masks the code',
    );
    const draft = {
      subject: 'Draft for {{ contact.firstName }}',
      html: '<p>{{ contact.lastName }}</p>',
      text: 'x',
    };
    const live = ok<Json>(
      await h.api('POST', `/api/v1/email-templates/${templateId}/preview`, { invitationId: inv.id, draft }),
    );
    assert.equal(live.subject, `Draft for ${contact.firstName}`, 'a draft renders unsaved');
    assert.match(live.html, new RegExp(`<p>${contact.lastName}</p>`));
    const broken = problem(
      await h.api('POST', `/api/v1/email-templates/${templateId}/preview`, {
        invitationId: inv.id,
        draft: { ...draft, html: '{% if %}' },
      }),
      400,
      'VALIDATION_FAILED',
    );
    assert.match(broken.detail, /The html is not valid Liquid/);
    assert.deepEqual(live.unknownVariables, [], 'every variable of the draft is known');
    const typo = ok<Json>(
      await h.api('POST', `/api/v1/email-templates/${templateId}/preview`, {
        invitationId: inv.id,
        draft: {
          subject: 'Hi {{ contact.frstName }}',
          html: '<p>{{ website.name.size }} {{ nonsense }} {% for x in list %}{{ x.y }}{% endfor %}</p>',
          text: '{{ contact.frstName }} {{ invitation.redemptionUrl }}',
        },
      }),
    );
    assert.deepEqual(typo.unknownVariables, ['contact.frstName', 'nonsense', 'list'], 'each unknown once');
    // Without an invitation, sample data stands in: no invitation or invited contact is needed.
    const sample = ok<Json>(
      await h.api('POST', `/api/v1/email-templates/${templateId}/preview`, {
        websiteId: website.id,
        draft: { subject: 'For {{ contact.fullName }} at {{ website.name }}', html: '<p>x</p>', text: 'x' },
      }),
    );
    assert.equal(sample.sample, true);
    assert.equal(sample.subject, `For Alex Sample at ${website.name}`);
    assert.equal(sample.to, 'alex.sample@example.com');
    const group = ok<Json>(
      await h.api('POST', '/api/v1/invitations', { type: 'group', websiteId: website.id, maxRedemptions: 3 }),
      201,
    );
    const nobody = problem(
      await h.api('POST', `/api/v1/email-templates/${templateId}/preview`, { invitationId: group.id }),
      400,
      'VALIDATION_FAILED',
    );
    assert.match(nobody.detail, /no invited contact .* or preview with sample data/);
    const kept = ok<Json>(await h.api('GET', `/api/v1/email-templates/${templateId}`));
    assert.equal(kept.subject, edited.subject, 'previewing a draft saves nothing');
    const workflowAudit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=workflow&entityId=${sendWorkflow.id}`),
    ).items.map((e: Json) => e.action);
    assert.deepEqual(workflowAudit.slice(0, 3), [
      'workflow.activated',
      'workflow.updated',
      'workflow.deactivated',
    ]);
  });

  it('sends at once after 200 live previews of drafts on the mail threads', async () => {
    const website = await makeWebsite(h);
    const first = await makeContact(h);
    const sent = await inviteAndSend(h, website.id, first.id);
    await emailWhen(h, sent.id, 'sent');
    for (let i = 0; i < 200; i++) {
      const draft = { subject: `Draft ${i} for {{ contact.firstName }}`, html: `<p>${i}</p>`, text: `${i}` };
      const live = ok<Json>(
        await h.api('POST', `/api/v1/email-templates/${templateId}/preview`, {
          invitationId: sent.id,
          draft,
        }),
      );
      assert.equal(live.subject, `Draft ${i} for ${first.firstName}`);
    }
    const contact = await makeContact(h);
    const inv = await inviteAndSend(h, website.id, contact.id);
    await eventually(() => to(contact.email).length === 1, 5_000, 'the message, at once');
    const email = await emailWhen(h, inv.id, 'sent');
    assert.equal(email.attempts, 1, 'sent on the first attempt');
    const [job] = await h.deps.db
      .selectFrom('jobs')
      .select(['attempts', 'last_error'])
      .where('type', '=', DELIVER_JOB)
      .orderBy('id', 'desc')
      .limit(1)
      .execute();
    assert.deepEqual([job?.attempts, job?.last_error], [1, null], 'its delivery job ran once, without error');
  });

  it('a refused password-reset email is failed with the reply, and a retry sends it with a link that works', async () => {
    const website = await makeWebsite(h);
    const member = await makeMember(h, {}, [website.id]);
    const portal = new PortalClient(h);
    await portal.get(`/portal/${website.slug}/forgot-password`);
    sink.failNext(1, 550, '5.1.1 mailbox unavailable');
    await portal.post(`/portal/${website.slug}/forgot-password`, { email: member.email });
    const failed = await eventually(async () => {
      const [e] = ok<Json>(await h.api('GET', `/api/v1/emails?contactId=${member.id}`)).items;
      return e?.status === 'failed' ? (e as Json) : undefined;
    });
    assert.equal(failed.kind, 'reset-password');
    assert.match(failed.lastError, /mailbox unavailable/);
    ok(await h.api('POST', `/api/v1/emails/${failed.id}/retry`), 202);
    await eventually(() => to(member.email).length === 1, 15_000, 'the retried message');
    const link = /https?:\/\/\S+reset-password\?token=\S+/.exec(to(member.email)[0]?.text ?? '')?.[0];
    assert.ok(link, 'the message has its reset link');
    const form = await portal.get(new URL(link).pathname + new URL(link).search);
    assert.equal(form.statusCode, 200, 'the link opens the reset form');
    const [sent] = ok<Json>(await h.api('GET', `/api/v1/emails?contactId=${member.id}`)).items;
    assert.deepEqual([sent.id, sent.status, sent.attempts], [failed.id, 'sent', 2]);
  });

  /**
   * An invitation email refused once with 451: pending, attempted once, handed to its retry job,
   * which is made to wait an hour.
   */
  async function handedToRetry() {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    sink.failNext(1, 451, '4.3.0 try again later');
    const inv = await inviteAndSend(h, website.id, contact.id);
    const db = h.deps.db;
    const handed = await eventually(async () => {
      const e = await db
        .selectFrom('emails')
        .select(['id', 'job_id', 'attempts', 'status'])
        .where('invitation_id', '=', inv.id)
        .executeTakeFirst();
      return e?.attempts === 1 && e.status === 'pending' ? e : undefined;
    });
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await db
      .updateTable('jobs')
      .set({ run_at: later })
      .where('id', '=', handed.job_id as string)
      .execute();
    return { contact, inv, handed };
  }

  it('an email handed to its retry job is not sent by another job that lists it', async () => {
    const { contact, inv, handed } = await handedToRetry();
    const db = h.deps.db;
    // The retry job waits an hour; the first job's payload, run again, names the same email.
    const [again] = await enqueue(db, h.deps.now(), {
      type: DELIVER_JOB,
      payload: { emailIds: [handed.id] },
    });
    h.deps.notifyJobs();
    await eventually(async () => {
      const j = await db
        .selectFrom('jobs')
        .select('status')
        .where('id', '=', again as string)
        .executeTakeFirst();
      return j?.status === 'succeeded';
    });
    assert.equal(to(contact.email).length, 0, 'not sent by the other job');
    const still = await db
      .selectFrom('emails')
      .select(['status', 'attempts'])
      .where('id', '=', handed.id)
      .executeTakeFirst();
    assert.deepEqual([still?.status, still?.attempts], ['pending', 1]);
    await db
      .updateTable('jobs')
      .set({ run_at: new Date().toISOString() })
      .where('id', '=', handed.job_id as string)
      .execute();
    h.deps.notifyJobs();
    await eventually(() => to(contact.email).length === 1, 15_000, 'sent by its retry job');
    await emailWhen(h, inv.id, 'sent');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(to(contact.email).length, 1, 'once');
  });

  it('an email whose delivery job died can be retried; one whose job still waits cannot', async () => {
    const { contact, inv, handed } = await handedToRetry();
    const db = h.deps.db;
    problem(await h.api('POST', `/api/v1/emails/${handed.id}/retry`), 409, 'EMAIL_NOT_RETRYABLE');
    // Without an owner (an email queued before owners existed), the live job that lists it counts.
    await db.updateTable('emails').set({ job_id: null }).where('id', '=', handed.id).execute();
    problem(await h.api('POST', `/api/v1/emails/${handed.id}/retry`), 409, 'EMAIL_NOT_RETRYABLE');
    await db
      .updateTable('jobs')
      .set({ status: 'dead' })
      .where('id', '=', handed.job_id as string)
      .execute();
    ok(await h.api('POST', `/api/v1/emails/${handed.id}/retry`), 202);
    await eventually(() => to(contact.email).length === 1, 15_000, 'sent by the retry');
  });

  it('two retries of one failed email at once: one is taken, the email goes out once', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    sink.failNext(1, 550, '5.1.1 mailbox unavailable');
    const inv = await inviteAndSend(h, website.id, contact.id);
    const failed = await emailWhen(h, inv.id, 'failed');
    const answers = await Promise.all([1, 2].map(() => h.api('POST', `/api/v1/emails/${failed.id}/retry`)));
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [202, 409]);
    await eventually(() => to(contact.email).length === 1, 15_000, 'the retried message');
    await emailWhen(h, inv.id, 'sent');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(to(contact.email).length, 1, 'once');
  });

  it('a reset email is not mailed once its link has expired, nor to an address the contact no longer has', async () => {
    const website = await makeWebsite(h);
    const resetFor = async () => {
      const member = await makeMember(h, {}, [website.id]);
      const portal = new PortalClient(h);
      await portal.get(`/portal/${website.slug}/forgot-password`);
      sink.failNext(1, 550, '5.1.1 mailbox unavailable');
      await portal.post(`/portal/${website.slug}/forgot-password`, { email: member.email });
      const failed = await eventually(async () => {
        const [e] = ok<Json>(await h.api('GET', `/api/v1/emails?contactId=${member.id}`)).items;
        return e?.status === 'failed' ? (e as Json) : undefined;
      });
      return { member, failed };
    };
    const retried = async (emailId: string, contactId: string) => {
      ok(await h.api('POST', `/api/v1/emails/${emailId}/retry`), 202);
      return eventually(async () => {
        const [e] = ok<Json>(await h.api('GET', `/api/v1/emails?contactId=${contactId}`)).items;
        return e?.status === 'failed' && e.attempts === 2 ? (e as Json) : undefined;
      });
    };
    const expired = await resetFor();
    h.advance(2 * 3_600_000);
    try {
      const e = await retried(expired.failed.id, expired.member.id);
      assert.match(e.lastError, /^TOKEN_NOT_VALID/);
    } finally {
      h.advance(-2 * 3_600_000);
    }
    const moved = await resetFor();
    ok(
      await h.api('PATCH', `/api/v1/contacts/${moved.member.id}`, { email: `moved.${rand()}@example.test` }),
    );
    const e = await retried(moved.failed.id, moved.member.id);
    assert.match(e.lastError, /^ADDRESS_CHANGED/);
    assert.equal(to(expired.member.email).length + to(moved.member.email).length, 0, 'no link was mailed');
  });

  it('keeps the email queued while the mail server is down and delivers it when it returns', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const port = sink.port;
    await sink.stop();
    try {
      const inv = await inviteAndSend(h, website.id, contact.id);
      await new Promise((r) => setTimeout(r, 700));
      const [email] = (await emailsOf(inv.id)) as [Json];
      assert.ok(['pending', 'sending'].includes(email.status), email.status);
      assert.match(email.lastError ?? '', /ECONNREFUSED|connect/i);
    } finally {
      await sink.start(port);
    }
    await eventually(() => to(contact.email).length === 1, 20_000, 'delivery after the server returned');
  });
});
