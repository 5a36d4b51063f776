import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { SMTP_POOL_SIZE } from '../../src/mail/mailer.ts';
import { DELIVER_JOB, EMAILS_PER_JOB } from '../../src/modules/emails/email.ts';
import { eventually } from '../support/eventually.ts';
import { type Json, makeSignedInContactsBulk, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { refuseWrites } from '../support/refusals.ts';
import { SmtpSink } from '../support/smtp-sink.ts';

/**
 * The database refuses to record accepted messages (a failover, a full disk) in the middle of a
 * delivery job. The job must stop taking emails and end only once the ones in flight have finished:
 * a job that ended at the first refusal left its other lanes sending, beside the retry that sent the
 * same emails again.
 */
onBothDatabases('a delivery job whose records the database refuses', (dialect) => {
  let h: Harness;
  const sink = new SmtpSink();
  before(async () => {
    await sink.start();
    // The failed run's retry comes 1–2 s later: long enough to see that nothing goes out meanwhile.
    h = await startHarness(dialect, { worker: true, jobBackoffMs: 2000, env: { SMTP_URL: sink.url } });
  });
  after(async () => {
    await h.close();
    await sink.stop();
  });

  it('stops sending at the refusal and is retried; only the messages in flight go out twice', async () => {
    const db = h.deps.db;
    const website = await makeWebsite(h);
    const ids = await makeSignedInContactsBulk(h, EMAILS_PER_JOB);
    const refusing = await refuseSentRecords(h);
    sink.delayEach(15);
    try {
      ok<Json>(
        await h.api('POST', '/api/v1/invitations/bulk', {
          websiteId: website.id,
          contactIds: ids,
          send: true,
        }),
        201,
      );
      // The job's first run has failed: the database may record again.
      await eventually(
        async () =>
          (
            await db
              .selectFrom('jobs')
              .select('last_error')
              .where('type', '=', DELIVER_JOB)
              .executeTakeFirst()
          )?.last_error?.includes('refused by the test') === true,
        15_000,
        'the failed run',
      );
      const atFailure = sink.messages.length;
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(sink.messages.length, atFailure, 'nothing went out after the run failed');
      await refusing.stop();
      sink.delayEach(0);
      await eventually(
        async () =>
          Number(
            (
              await db
                .selectFrom('emails')
                .select((eb) => eb.fn.countAll().as('n'))
                .where('status', '=', 'sent')
                .executeTakeFirstOrThrow()
            ).n,
          ) === ids.length,
        20_000,
        'every email recorded sent',
      );
      const received = new Set(sink.messages.flatMap((m) => m.to));
      assert.equal(received.size, ids.length, 'every invitee got the message');
      const twice = sink.messages.length - ids.length;
      // A lane finishes the email it holds (its record refused too) and takes no other: at most
      // the job's lanes, two per SMTP connection, were accepted and not recorded, and go out again.
      assert.ok(atFailure <= 2 * SMTP_POOL_SIZE, `${atFailure} messages went out in the failed run`);
      assert.ok(twice <= 2 * SMTP_POOL_SIZE, `${twice} messages went out twice`);
    } finally {
      await refusing.stop();
      sink.delayEach(0);
    }
  });
});

/** A trigger that refuses to mark any email sent, until `stop()`. */
async function refuseSentRecords(h: Harness) {
  const db = h.deps.db;
  await sql`create table refuse_records (x integer)`.execute(db);
  await sql`insert into refuse_records values (1)`.execute(db);
  await refuseWrites(h, 'refuse_sent', {
    table: 'emails',
    on: 'update',
    condition: `new.status = 'sent' and exists (select 1 from refuse_records)`,
  });
  return { stop: async () => void (await sql`delete from refuse_records`.execute(db)) };
}
