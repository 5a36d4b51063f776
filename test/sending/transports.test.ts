import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { SMTP_POOL_SIZE } from '../../src/mail/mailer.ts';
import { outboxFileName } from '../../src/mail/outbox.ts';
import { eventually } from '../support/eventually.ts';
import { emailWhen, inviteAndSend, type Json, makeContact, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { makeMember } from '../support/portal.ts';
import { PortalClient } from '../support/portal-client.ts';
import { parseMessage, SmtpSink } from '../support/smtp-sink.ts';

onBothDatabases('the outbox (no SMTP_URL)', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true });
  });
  after(() => h.close());

  it('writes each message as an .eml file in the data directory and records it as sent', async () => {
    const status = ok<Json>(await h.api('GET', '/api/v1/mail/status'));
    assert.deepEqual(status, {
      transport: 'outbox',
      state: 'sending',
      paused: false,
      reason: null,
      since: null,
      lastReply: null,
      nextAttemptAt: null,
      waiting: 0,
    });
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const inv = await inviteAndSend(h, website.id, contact.id);
    const email = await emailWhen(h, inv.id, 'sent');
    const dir = path.join(h.deps.config.dataDir, 'outbox');
    const file = path.join(dir, `${outboxFileName(email.messageId)}.eml`);
    assert.ok(readdirSync(dir).includes(path.basename(file)));
    const m = parseMessage(readFileSync(file, 'utf8'));
    assert.equal(m.headers.get('to'), contact.email);
    assert.equal(m.headers.get('message-id'), email.messageId);
    assert.ok(m.text.includes(inv.redemptionUrl));
  });
});

onBothDatabases('SMTP credentials refused', (dialect) => {
  const sink = new SmtpSink({ user: 'admit', pass: 'right-password' });
  let h: Harness;
  before(async () => {
    await sink.start();
    h = await startHarness(dialect, {
      worker: true,
      env: { SMTP_URL: sink.url.replace('right-password', 'wrong-password') },
    });
  });
  after(async () => {
    await h.close();
    await sink.stop();
  });

  it('pauses sending and says why; the email stays queued, not failed', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const inv = await inviteAndSend(h, website.id, contact.id);
    const status = await eventually(async () => {
      const s = ok<Json>(await h.api('GET', '/api/v1/mail/status'));
      return s.paused ? s : undefined;
    });
    assert.deepEqual([status.transport, status.state, status.waiting], ['smtp', 'paused', 1]);
    assert.match(status.reason, /credentials/);
    assert.match(status.reason, /535/);
    assert.ok(!status.reason.includes('wrong-password'), 'the password is not shown');
    const [email] = ok<Json>(await h.api('GET', `/api/v1/emails?invitationId=${inv.id}`)).items;
    assert.equal(email.status, 'pending');
    assert.equal(sink.messages.length, 0);
    // Every kind of email waits in the pause: a password reset asked for now is not tried.
    const connections = sink.connections;
    const member = await makeMember(h, {}, [website.id]);
    const portal = new PortalClient(h);
    await portal.get(`/portal/${website.slug}/forgot-password`);
    await portal.post(`/portal/${website.slug}/forgot-password`, { email: member.email });
    await new Promise((r) => setTimeout(r, 1500));
    const [reset] = ok<Json>(await h.api('GET', `/api/v1/emails?contactId=${member.id}`)).items;
    assert.deepEqual([reset.kind, reset.status, reset.attempts], ['reset-password', 'pending', 0]);
    assert.equal(sink.connections, connections, 'the mail server was not asked again');
    assert.equal(ok<Json>(await h.api('GET', '/api/v1/mail/status')).waiting, 2);
    const resumed = ok<Json>(await h.api('POST', '/api/v1/mail/resume'));
    assert.equal(resumed.paused, false);
  });
});

for (const threads of ['0', '2']) {
  onBothDatabases(
    `composing and sending on ${threads === '0' ? 'the main thread' : `${threads} threads`}`,
    (dialect) => {
      const sink = new SmtpSink();
      let h: Harness;
      before(async () => {
        await sink.start();
        h = await startHarness(dialect, {
          worker: true,
          env: { SMTP_URL: sink.url, ADMIT_COMPOSE_THREADS: threads },
        });
      });
      after(async () => {
        await h.close();
        await sink.stop();
      });

      it('delivers each invitation once, with its own code, over at most the pool size of connections', async () => {
        const website = await makeWebsite(h);
        const contacts = await Promise.all(Array.from({ length: 30 }, () => makeContact(h)));
        const res = ok<Json>(
          await h.api('POST', '/api/v1/invitations/bulk', {
            websiteId: website.id,
            contactIds: contacts.map((c) => c.id),
            send: true,
          }),
          201,
        );
        assert.equal(res.queued, 30);
        await sink.waitFor(30);
        for (const c of contacts) {
          const got = sink.messages.filter((m) => m.to.includes(c.email));
          assert.equal(got.length, 1, `one message to ${c.email}`);
          assert.equal(got[0]?.headers.get('to'), c.email);
        }
        const codes = new Set(sink.messages.map((m) => /invitation=([0-9A-Z-]+)/.exec(m.text)?.[1]));
        assert.equal(codes.size, 30, 'each message its own code');
        const sent = await eventually(async () => {
          const l = ok<Json>(await h.api('GET', '/api/v1/emails?status=sent&limit=100'));
          return l.items.length === 30 ? l.items : undefined;
        });
        const ids = new Set(sink.messages.map((m) => m.headers.get('message-id')));
        assert.ok(
          sent.every((e: Json) => ids.has(e.messageId)),
          'each Email recorded with the Message-ID sent',
        );
        assert.ok(sink.mostOpen <= SMTP_POOL_SIZE, `${sink.mostOpen} connections at once`);
      });

      it('a template edited after a send is the one the next messages are written with', async () => {
        // The threads compiled the template with the send above, and are sent its parts only once
        // per version: an edit must reach each of them.
        const workflow = ok<Json>(await h.api('GET', '/api/v1/workflows')).items.find(
          (w: Json) => w.key === 'send-invitation',
        );
        const templateUrl = `/api/v1/email-templates/${workflow.templateId}`;
        const template = ok<Json>(await h.api('GET', templateUrl));
        ok(await h.api('POST', `/api/v1/workflows/${workflow.id}/deactivate`));
        ok(
          await h.api('PUT', templateUrl, {
            name: template.name,
            subject: 'Edited for {{ contact.firstName }}',
            html: template.html,
            text: `${template.text}\nEdited`,
          }),
        );
        ok(await h.api('POST', `/api/v1/workflows/${workflow.id}/activate`));
        const website = await makeWebsite(h);
        const contacts = await Promise.all(Array.from({ length: 6 }, () => makeContact(h)));
        ok(
          await h.api('POST', '/api/v1/invitations/bulk', {
            websiteId: website.id,
            contactIds: contacts.map((c) => c.id),
            send: true,
          }),
          201,
        );
        await sink.waitFor(36);
        for (const c of contacts) {
          const [m] = sink.messages.filter((m) => m.to.includes(c.email));
          assert.equal(m?.headers.get('subject'), `Edited for ${c.firstName}`);
          assert.match(m?.text ?? '', /Edited/);
        }
      });
    },
  );
}
