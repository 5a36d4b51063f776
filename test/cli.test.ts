import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';
import { onBothDatabases } from './support/harness.ts';
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
    assert.match(
      (await admit(['users', 'create', '--email', 'ops@example.test', '--name', 'Ops'])).stdout,
      /Created admin ops@example.test/,
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
      assert.match(output, /Admit is running at/);
      assert.ok(!output.includes(key), 'the key is not printed by serve');
    } finally {
      const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      assert.equal(await exited, 0, 'a graceful shutdown');
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
