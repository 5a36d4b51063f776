import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import { onBothDatabases, TEST_API_KEY } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';

const MAIN = path.resolve('src/main.ts');

/**
 * `admit serve` as deployed, with its mail server down: the delivery job fails, the failure is
 * logged, and the server keeps running. (Its error serializer once threw on a job failure's
 * message, which is a string, and the throw ended the process.)
 */
onBothDatabases('admit serve while the mail server is down', (dialect) => {
  let db: TestDatabase;
  let dir: string;
  let child: ChildProcess | undefined;
  let port: number;
  let log = '';

  before(async () => {
    db = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'admit-smtp-down-'));
    port = await freePort();
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      DATA_DIR: dir,
      // Nothing listens there: every connection is refused.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
      MAIL_FROM: 'Portal <portal@example.test>',
      ADMIT_SECRET: 'smtp-down-test-secret-0123456789abcdefghijkl',
      ADMIT_BOOTSTRAP_API_KEY: TEST_API_KEY,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    };
    child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    await eventually(
      () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      30_000,
      'admit serve',
    );
  });
  after(async () => {
    child?.kill('SIGKILL');
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (p: string, body: unknown) => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(r.status < 300, `${p}: ${r.status} ${await r.clone().text()}`);
    return (await r.json()) as { id?: string; queued?: number };
  };

  it('logs the failed delivery job and keeps serving', async () => {
    const website = await api('/websites', { name: 'Down', slug: 'down' });
    const contact = await api('/contacts', {
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.test',
    });
    const bulk = await api('/invitations/bulk', {
      websiteId: website.id,
      contactIds: [contact.id],
      send: true,
    });
    assert.equal(bulk.queued, 1);

    await eventually(() => log.includes('job failed'), 20_000, 'the job failure in the log');
    assert.match(log, /"jobType":"email\.deliver"/);
    assert.match(log, /mail server unreachable/);
    // Still alive and answering.
    assert.equal(child?.exitCode, null, `admit serve exited: ${log.slice(-2000)}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
  });
});
