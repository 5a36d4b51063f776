import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { type Db, openDatabase } from '../src/db/database.ts';
import { isSchemaCurrent } from '../src/db/migrate.ts';
import {
  createTestDatabase,
  describeUnlessSkipped,
  dialectsUnderTest,
  isCi,
  type TestDatabase,
} from './support/databases.ts';
import { type Json, makeContact, makeWebsite } from './support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from './support/harness.ts';
import { freePort } from './support/ports.ts';

const run = promisify(execFile);
const MAIN = path.resolve('src/main.ts');

onBothDatabases('the admit command', (dialect) => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    db = await createTestDatabase(dialect);
    env = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'admit-cli-')),
      LOG_LEVEL: 'warn',
    };
  });
  after(() => db.drop());

  const admit = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...env, ...extra } });

  it('migrates, creates a user and prints an API key once, which then works', async () => {
    assert.match((await admit(['migrate'])).stdout, /Applied: .*initial/);
    assert.match((await admit(['migrate'])).stdout, /up to date/);
    const createdUser = (await admit(['users', 'create', '--email', 'ops@example.test', '--name', 'Ops']))
      .stdout;
    assert.match(createdUser, /Created admin ops@example.test/);
    assert.match(
      createdUser,
      /\/admin#\/set-password\/[0-9a-f-]{36}\.[0-9a-f]{64}/,
      'a link to choose a password',
    );
    const reset = (await admit(['users', 'reset-password', '--email', 'ops@example.test'])).stdout;
    const token = /#\/set-password\/([0-9a-f-]{36}\.[0-9a-f]{64})/.exec(reset)?.[1] as string;
    assert.ok(token, reset);
    await assert.rejects(
      admit(['users', 'reset-password', '--email', 'nobody@example.test']),
      /No user has the email/,
    );
    const out = (await admit(['api-keys', 'create', '--user', 'ops@example.test'])).stdout;
    const key = out.trim().split('\n').pop() as string;
    assert.match(key, /^admit_[A-Za-z0-9_-]{32}$/);

    const port = await freePort();
    const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
      env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout?.on('data', (d) => {
      output += d;
    });
    server.stderr?.on('data', (d) => {
      output += d;
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        if (
          await fetch(`${base}/readyz`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const created = await fetch(`${base}/api/v1/websites`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'CLI', slug: 'cli' }),
      });
      assert.equal(created.status, 201, output);
      // The operator's link sets the password, which then signs in.
      const post = (url: string, body: Json) =>
        fetch(`${base}${url}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const passphrase = 'the operator at the keyboard';
      assert.equal((await post('/api/v1/session/set-password', { token, password: passphrase })).status, 200);
      assert.equal(
        (await post('/api/v1/session', { email: 'ops@example.test', password: passphrase })).status,
        200,
      );
      assert.match(output, /Admit is running at/);
      assert.ok(!output.includes(key), 'the key is not printed by serve');
    } finally {
      const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      assert.equal(await exited, 0, 'a graceful shutdown');
    }
  });

  it('admit demo fills an empty database with every invitation status, prints where to click, and refuses twice', async () => {
    const fresh = await createTestDatabase(dialect);
    try {
      const { stdout } = await admit(['demo'], { DATABASE_URL: fresh.url });
      assert.match(stdout, /Demo data is in: the website Contoso Partners/);
      assert.match(stdout, /Admin console: +http:\/\/localhost:\d+\/admin/);
      const link = /Be the invitee: (\S+)/.exec(stdout)?.[1] as string;
      assert.match(link, /\/portal\/contoso\/register\?returnurl=%2F&invitation=[0-9A-Z-]{34}$/);
      const handle = openDatabase(fresh.url);
      try {
        const rows = await handle.db.selectFrom('invitations').selectAll().execute();
        const now = Date.now();
        const statuses = rows.map((r) =>
          r.state === 'inactive'
            ? 'inactive'
            : r.redemption_count >= r.max_redemptions
              ? 'redeemed'
              : r.expires_at && Date.parse(String(r.expires_at)) <= now
                ? 'expired'
                : r.status_reason === 'new'
                  ? 'new'
                  : 'sent',
        );
        assert.deepEqual(
          [...new Set(statuses)].sort(),
          ['expired', 'inactive', 'new', 'redeemed', 'sent'],
          'every status',
        );
        assert.equal(statuses.filter((s) => s === 'sent').length, 3, 'the sent ones were delivered');
        const keys = await handle.db.selectFrom('api_keys').selectAll().execute();
        assert.equal(keys.length, 0, 'the demo revokes the key it used');
      } finally {
        await handle.close();
      }
      const again = await admit(['demo'], { DATABASE_URL: fresh.url }).catch(
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal((again as { code?: number }).code, 1);
      assert.match(
        (again as { stderr: string }).stderr,
        /admit demo fills an empty database; this one has 1 websites/,
      );
    } finally {
      await fresh.drop();
    }
  });

  it('explains configuration errors and exits 2', async () => {
    await assert.rejects(
      admit(['migrate'], { PORT: 'eighty', ADMIT_SECRET: 'short' }),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /PORT="eighty"/);
        assert.match(err.stderr, /ADMIT_SECRET must be at least 32 characters/);
        return true;
      },
    );
  });

  it('refuses unknown commands and incomplete arguments', async () => {
    await assert.rejects(
      admit(['frobnicate']),
      (err: { code: number; stderr: string }) => err.code === 2 && /Unknown command/.test(err.stderr),
    );
    await assert.rejects(
      admit(['api-keys', 'create']),
      (err: { code: number; stderr: string }) => err.code === 2 && /--user/.test(err.stderr),
    );
    await assert.rejects(
      admit(['api-keys', 'create', '--user', 'nobody@example.test']),
      (err: { code: number; stderr: string }) => err.code === 1 && /No user/.test(err.stderr),
    );
  });
});

/** Opens a restored database: its schema is current, `website` is in it, and `check` holds. */
async function readBack(url: string, website: Json, check: (db: Db) => Promise<void>) {
  const copy = openDatabase(url);
  try {
    assert.equal(await isSchemaCurrent(copy.db), true);
    const site = await copy.db
      .selectFrom('websites')
      .select('name')
      .where('id', '=', website.id)
      .executeTakeFirst();
    assert.equal(site?.name, website.name);
    await check(copy.db);
  } finally {
    await copy.close();
  }
}

describe('admit backup', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('sqlite', { worker: true });
  });
  after(() => h.close());

  it('copies a running SQLite database consistently; the copy opens with every row written before it', async () => {
    const website = await makeWebsite(h);
    const before: Json[] = [];
    for (let i = 0; i < 20; i++) before.push(await makeContact(h));
    // Writes keep coming while the copy is taken.
    let writing = true;
    let during = 0;
    const writer = (async () => {
      while (writing) {
        await makeContact(h);
        during += 1;
      }
    })();
    const dir = mkdtempSync(path.join(tmpdir(), 'admit-backup-'));
    const file = path.join(dir, 'copy.db');
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: h.deps.config.databaseUrl,
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
    };
    const admit = (args: string[]) => run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env });
    try {
      assert.match((await admit(['backup', file])).stdout, /Backed up \d+ pages to .*copy\.db/);
    } finally {
      writing = false;
      await writer;
    }
    assert.ok(during > 0, 'contacts were written during the backup');
    await assert.rejects(
      admit(['backup', file]),
      (err: { code: number; stderr: string }) => err.code === 2 && /exists/.test(err.stderr),
      'never overwrites',
    );

    // Restore: the copy is a database Admit opens as it is.
    await readBack(`sqlite:${file}`, website, async (copy) => {
      const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(copy);
      assert.equal(integrity.rows[0]?.integrity_check, 'ok');
      const ids = (await copy.selectFrom('contacts').select('id').execute()).map((r) => r.id);
      for (const c of before) assert.ok(ids.includes(c.id), `contact ${c.id} is in the copy`);
    });
    assert.match(
      (
        await run(process.execPath, ['--import', 'tsx', MAIN, 'migrate'], {
          env: { ...env, DATABASE_URL: `sqlite:${file}` },
        })
      ).stdout,
      /up to date/,
    );
  });

  it('on PostgreSQL, says to use pg_dump and exits 2', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', MAIN, 'backup', '/tmp/never.db'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/admit',
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'admit-backup-')),
        LOG_LEVEL: 'warn',
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /pg_dump --format=custom/);
  });
});

const pgBin = ['/usr/lib/postgresql']
  .filter((d) => existsSync(d))
  .flatMap((d) => readdirSync(d).map((v) => path.join(d, v, 'bin')))
  .filter((d) => existsSync(path.join(d, 'pg_dump')))
  .sort()
  .pop();
const pgSkip =
  dialectsUnderTest().find((d) => d.name === 'postgres')?.skip || (pgBin ? false : 'pg_dump is missing');
if (pgSkip && isCi) throw new Error(`CI=true but ${pgSkip}: refusing to skip the PostgreSQL backup test.`);
describeUnlessSkipped('the README backup of PostgreSQL [postgres]', pgSkip, () => {
  let h: Harness;
  let restored: TestDatabase;
  before(async () => {
    h = await startHarness('postgres');
    restored = await createTestDatabase('postgres');
  });
  after(async () => {
    await h.close();
    await restored.drop();
  });

  it('pg_dump while Admit runs, pg_restore into an empty database, and the data reads back', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'admit-pgdump-')), 'admit.dump');
    await run(path.join(pgBin as string, 'pg_dump'), [
      '--format=custom',
      `--file=${file}`,
      h.deps.config.databaseUrl,
    ]);
    await run(path.join(pgBin as string, 'pg_restore'), ['--no-owner', `--dbname=${restored.url}`, file]);
    await readBack(restored.url, website, async (copy) => {
      const row = await copy
        .selectFrom('contacts')
        .select('email')
        .where('id', '=', contact.id)
        .executeTakeFirst();
      assert.equal(row?.email, contact.email);
    });
  });
});
