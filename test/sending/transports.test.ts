import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { outboxFileName } from '../../src/mail/outbox.ts';
import { eventually } from '../support/eventually.ts';
import { emailWhen, inviteAndSend, type Json, makeContact, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { parseMessage, SmtpSink } from '../support/smtp-sink.ts';

onBothDatabases('the outbox (no SMTP_URL)', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true });
  });
  after(() => h.close());

  it('writes each message as an .eml file in the data directory and records it as sent', async () => {
    const status = ok<Json>(await h.api('GET', '/api/v1/mail/status'));
    assert.deepEqual(status, { transport: 'outbox', paused: false, reason: null, since: null });
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
    assert.equal(status.transport, 'smtp');
    assert.match(status.reason, /credentials/);
    assert.match(status.reason, /535/);
    assert.ok(!status.reason.includes('wrong-password'), 'the password is not shown');
    const [email] = ok<Json>(await h.api('GET', `/api/v1/emails?invitationId=${inv.id}`)).items;
    assert.equal(email.status, 'pending');
    assert.equal(sink.messages.length, 0);
    const resumed = ok<Json>(await h.api('POST', '/api/v1/mail/resume'));
    assert.equal(resumed.paused, false);
  });
});
