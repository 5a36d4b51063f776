import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { SMTP_POOL_SIZE } from '../../src/mail/mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import { onBothDatabases, TEST_API_KEY } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';
import { startServeProcess } from '../support/serve-process.ts';
import { SmtpSink } from '../support/smtp-sink.ts';

const run = promisify(execFile);
const MAIN = path.resolve('src/main.ts');
const COUNT = 2000;

onBothDatabases('kill -9 in the middle of sending', (dialect) => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const sink = new SmtpSink();
  let child: ChildProcess | undefined;

  before(async () => {
    db = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'admit-crash-'));
    await sink.start();
    env = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      DATA_DIR: dir,
      SMTP_URL: sink.url,
      MAIL_FROM: 'Portal <portal@example.test>',
      ADMIT_SECRET: 'crash-test-secret-0123456789abcdefghijklmnop',
      ADMIT_BOOTSTRAP_API_KEY: TEST_API_KEY,
      ADMIT_JOB_LEASE_SECONDS: '2',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    child?.kill('SIGKILL');
    await sink.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const startServe = () => startServeProcess(env);

  it('delivers every email after a restart, with duplicates at most the SMTP pool size', async (t) => {
    child = await startServe();
    const res = await fetch(`http://127.0.0.1:${env.PORT}/api/v1/websites`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Crash', slug: 'crash' }),
    });
    const website = (await res.json()) as { id: string };
    const csv = path.join(dir, 'contacts.csv');
    writeFileSync(
      csv,
      [
        'firstName,lastName,email',
        ...Array.from({ length: COUNT }, (_, i) => `Person,${i},person${i}@example.test`),
      ].join('\n'),
    );
    const imported = await run(process.execPath, ['--import', 'tsx', MAIN, 'contacts', 'import', csv], {
      env,
    });
    assert.match(imported.stdout, new RegExp(`${COUNT} created, 0 skipped`));
    const invited = await run(
      process.execPath,
      ['--import', 'tsx', MAIN, 'invite', '--website', website.id, '--csv', csv, '--send'],
      { env },
    );
    assert.match(invited.stdout, new RegExp(`${COUNT} created, ${COUNT} queued to send, 0 not invited`));

    await eventually(() => sink.messages.length >= 300, 30_000, 'the first messages');
    // The worst moment to die: recording held back while the mail server goes on accepting, so every
    // message handed to SMTP is accepted and none recorded. Killed then, each is sent again.
    const held = await holdEmailWrites(dialect, db.url);
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    await held.release();
    const atKill = sink.messages.length;
    assert.ok(atKill < COUNT, `killed in the middle (${atKill} of ${COUNT} delivered)`);
    const unrecorded = atKill - held.recordedSent;

    child = await startServe();
    await eventually(
      () => new Set(sink.messages.flatMap((m) => m.to)).size === COUNT,
      60_000,
      `all ${COUNT} recipients`,
    );
    const perRecipient = new Map<string, number>();
    for (const m of sink.messages)
      for (const to of m.to) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
    const duplicates = sink.messages.length - COUNT;
    t.diagnostic(
      `${atKill} of ${COUNT} delivered when killed, ${unrecorded} of them not recorded; ${duplicates} duplicates after the restart`,
    );
    assert.ok(unrecorded > 0, 'killed with messages accepted but not recorded');
    assert.ok(
      unrecorded <= SMTP_POOL_SIZE,
      `${unrecorded} accepted, not recorded (pool size ${SMTP_POOL_SIZE})`,
    );
    // On PostgreSQL a record waiting on the lock when the process died may still commit.
    assert.ok(duplicates <= unrecorded, 'only messages not recorded are sent again');
    assert.ok([...perRecipient.values()].every((n) => n >= 1));
    const stats = await fetch(`http://127.0.0.1:${env.PORT}/api/v1/emails?status=sent&limit=1`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    assert.equal(stats.status, 200);
    await eventually(
      async () => {
        const r = await fetch(`http://127.0.0.1:${env.PORT}/api/v1/emails?status=sending&limit=1`, {
          headers: { authorization: `Bearer ${TEST_API_KEY}` },
        });
        return ((await r.json()) as { items: unknown[] }).items.length === 0;
      },
      10_000,
      'no email left sending',
    );
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    child = undefined;
  });
});

/**
 * Takes the write lock on emails from another connection (SQLite: the database's write lock;
 * PostgreSQL: a SHARE lock on the table, which reads pass and updates wait for), and counts the
 * emails recorded sent so far: none can be recorded until `release`.
 */
async function holdEmailWrites(
  dialect: 'sqlite' | 'postgres',
  url: string,
): Promise<{ recordedSent: number; release(): Promise<void> }> {
  const countSent = "select count(*) as n from emails where status = 'sent'";
  if (dialect === 'sqlite') {
    const conn = new Sqlite(url.slice('sqlite:'.length), { timeout: 10_000 });
    conn.exec('begin immediate');
    const { n } = conn.prepare(countSent).get() as { n: number };
    return {
      recordedSent: n,
      release: async () => {
        conn.exec('rollback');
        conn.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  await client.query('lock table emails in share mode');
  const { rows } = await client.query<{ n: string }>(countSent);
  return {
    recordedSent: Number(rows[0]?.n),
    release: async () => {
      await client.query('rollback');
      await client.end();
    },
  };
}
