import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { PROBE_CAP_MS } from '../../src/modules/emails/mail-state.service.ts';
import { eventually } from '../support/eventually.ts';
import { type Json, makeContact, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

/**
 * A mail server outage is visible and short: while the server cannot be reached, or defers every
 * message with 421, GET /mail/status says so (since when, the last reply, how many emails wait), no
 * email fails or spends its attempts, and delivery resumes within 30 s of the server's return.
 */
onBothDatabases('a mail server outage', (dialect) => {
  const sink = new SmtpSink();
  let proxy: TcpProxy;
  let h: Harness;
  before(async () => {
    await sink.start();
    proxy = new TcpProxy('127.0.0.1', sink.port);
    await proxy.start();
    h = await startHarness(dialect, { worker: true, env: { SMTP_URL: `smtp://127.0.0.1:${proxy.port}` } });
  });
  after(async () => {
    await h.close();
    await proxy.stop();
    await sink.stop();
  });

  const status = async () => ok<Json>(await h.api('GET', '/api/v1/mail/status'));
  async function inviteMany(n: number): Promise<string[]> {
    const website = await makeWebsite(h);
    const contacts = [];
    for (let i = 0; i < n; i++) contacts.push(await makeContact(h));
    const res = ok<Json>(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        contactIds: contacts.map((c) => c.id),
        send: true,
      }),
      201,
    );
    assert.equal(res.queued, n);
    return contacts.map((c) => c.email as string);
  }
  const emailStatuses = async (to: readonly string[]) => {
    const rows = await h.deps.db
      .selectFrom('emails')
      .select(['to_address', 'status'])
      .where('to_address', 'in', to)
      .execute();
    return rows.map((r) => r.status).sort();
  };
  const arrivedFor = (to: readonly string[]) =>
    sink.messages.filter((m) => to.some((t) => m.to.includes(t))).length;

  async function outlast(outageMs: number, to: readonly string[], kind: string, reply: RegExp) {
    const during = await eventually(async () => {
      const s = await status();
      return s.state === kind ? s : undefined;
    });
    assert.equal(during.paused, true);
    assert.match(during.reason, kind === 'unreachable' ? /cannot be reached/ : /deferring/);
    assert.match(during.lastReply, reply);
    assert.ok(Date.parse(during.since) <= Date.now());
    assert.ok(during.waiting >= to.length, `${during.waiting} emails wait`);
    await new Promise((r) => setTimeout(r, outageMs));
    const late = await status();
    assert.equal(late.state, kind, 'still in trouble after the outage');
    assert.equal(late.since, during.since, 'since when: the start of the outage');
    assert.ok(
      Date.parse(late.nextAttemptAt) - Date.now() <= PROBE_CAP_MS,
      'the next probe is at most the cap away',
    );
    assert.deepEqual(
      [...new Set(await emailStatuses(to))].filter((s) => s !== 'pending' && s !== 'sending'),
      [],
      'no email failed or was sent during the outage',
    );
  }

  it('unreachable: says so, waits, and sends everything within 30 s of its return', async (t) => {
    await proxy.cut();
    const to = await inviteMany(20);
    // Long enough for the probe's delay to reach its cap.
    await outlast(20_000, to, 'unreachable', /ECONNREFUSED|connect/i);
    await proxy.restore();
    const back = Date.now();
    await eventually(async () => arrivedFor(to) >= to.length, 30_000, 'every email after the return');
    const resumedMs = Date.now() - back;
    assert.ok(resumedMs <= 30_000, `resumed ${resumedMs} ms after the return`);
    t.diagnostic(`every email arrived ${resumedMs} ms after the server's return`);
    await eventually(async () => (await emailStatuses(to)).every((s) => s === 'sent'));
    const s = await status();
    assert.deepEqual([s.state, s.paused, s.reason, s.lastReply], ['sending', false, null, null]);
    assert.equal(arrivedFor(to), to.length, 'each email once');
  });

  it('deferring (421): says so with the reply, and resumes when the server accepts again', async (t) => {
    sink.failAll({ code: 421, message: '421 4.3.2 Service shutting down, try later' });
    const to = await inviteMany(10);
    await outlast(6_000, to, 'deferring', /421 4\.3\.2/);
    sink.failAll(null);
    const back = Date.now();
    await eventually(async () => (await emailStatuses(to)).every((s) => s === 'sent'), 30_000, 'all sent');
    const resumedMs = Date.now() - back;
    assert.ok(resumedMs <= 30_000, `resumed ${resumedMs} ms after the return`);
    t.diagnostic(`every email sent ${resumedMs} ms after the server accepted again`);
    const emails = await h.deps.db
      .selectFrom('emails')
      .select('attempts')
      .where('to_address', 'in', to)
      .execute();
    assert.ok(
      emails.every((e) => e.attempts <= 2),
      'a server-wide deferral does not spend the per-email attempts',
    );
    assert.equal((await status()).state, 'sending');
  });
});
