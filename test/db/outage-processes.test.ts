import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import {
  createTestDatabase,
  describeUnlessSkipped,
  dialectsUnderTest,
  type TestDatabase,
} from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const MAIN = path.resolve('src/main.ts');
const CONTACTS = 600;
const OUTAGE_MS = 8_000;

/**
 * The deployed shape, `admit serve` and `admit worker` as processes, with PostgreSQL cut away (a
 * TCP proxy the test cuts and restores) in the middle of a bulk send: both processes live through
 * it, the API answers 503 with Retry-After while it lasts, sending resumes within 10 s of the
 * database's return, every email is delivered and recorded, and duplicates stay within the
 * documented bound (the SMTP pool size per process).
 */
const postgres = dialectsUnderTest().find((d) => d.name === 'postgres');
describeUnlessSkipped(
  'serve and worker processes through a PostgreSQL outage [postgres]',
  postgres?.skip,
  () => {
    const sink = new SmtpSink();
    let db: TestDatabase;
    let proxy: TcpProxy;
    let dir: string;
    let port: number;
    const children: { name: string; child: ChildProcess; log: string }[] = [];

    before(async () => {
      db = await createTestDatabase('postgres');
      await sink.start();
      // A slow server, so the send is still going when the database goes.
      sink.delayEach(25);
      const target = new URL(db.url);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      const viaProxy = new URL(db.url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      dir = mkdtempSync(path.join(tmpdir(), 'admit-outage-'));
      port = await freePort();
      const env = {
        PATH: process.env.PATH,
        DATABASE_URL: viaProxy.toString(),
        DATA_DIR: dir,
        SMTP_URL: sink.url,
        MAIL_FROM: 'Portal <portal@example.test>',
        ADMIT_SECRET: 'outage-test-secret-0123456789abcdefghijklmn',
        ADMIT_BOOTSTRAP_API_KEY: TEST_API_KEY,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      };
      const start = (name: string, command: string) => {
        const child = spawn(process.execPath, ['--import', 'tsx', MAIN, command], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const entry = { name, child, log: '' };
        child.stdout?.on('data', (d: Buffer) => {
          entry.log += d.toString();
        });
        child.stderr?.on('data', (d: Buffer) => {
          entry.log += d.toString();
        });
        children.push(entry);
      };
      start('serve', 'serve');
      const ready = () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      await eventually(ready, 60_000, 'admit serve');
      start('worker', 'worker');
    });
    after(async () => {
      for (const { child } of children) child.kill('SIGKILL');
      await proxy.restore();
      await proxy.stop();
      await sink.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const call = (method: string, p: string, body?: unknown, type = 'application/json') =>
      fetch(`http://127.0.0.1:${port}/api/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(body ? { 'content-type': type } : {}) },
        ...(body ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
    const alive = () => {
      for (const { name, child, log } of children)
        assert.equal(child.exitCode, null, `admit ${name} exited: ${log.slice(-2000)}`);
    };

    it('lives through it: 503s while it lasts, sending resumes within 10 s, nothing lost', async (t) => {
      const website = (await (
        await call('POST', '/websites', { name: 'Outage', slug: 'outage' })
      ).json()) as {
        id: string;
      };
      const csv = `firstName,lastName,email\n${Array.from({ length: CONTACTS }, (_, i) => `P,${i},p${i}@example.test`).join('\n')}\n`;
      const imported = (await (await call('POST', '/contacts/import', csv, 'text/csv')).json()) as {
        created: number;
      };
      assert.equal(imported.created, CONTACTS);
      const contacts = (await (await call('GET', '/contacts?limit=100')).json()) as {
        items: { id: string }[];
      };
      assert.ok(contacts.items.length > 0);
      const ids: string[] = [];
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page = (await (
          await call('GET', `/contacts?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        ).json()) as {
          items: { id: string }[];
          nextCursor: string | null;
        };
        ids.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
      }
      const bulk = await call('POST', '/invitations/bulk', {
        websiteId: website.id,
        contactIds: ids,
        send: true,
      });
      assert.equal(bulk.status, 201);

      await sink.waitFor(60, 30_000);
      await proxy.cut();
      const cutAt = Date.now();
      const atCut = sink.messages.length;
      const during = await call('GET', '/contacts?limit=1');
      assert.equal(during.status, 503);
      assert.equal(during.headers.get('retry-after'), '5');
      assert.match(String(during.headers.get('content-type')), /^application\/problem\+json/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 503);
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - cutAt)));
      alive();
      const beforeReturn = sink.messages.length;
      await proxy.restore();
      const back = Date.now();
      await eventually(
        () => sink.messages.length > beforeReturn,
        10_000,
        'a message within 10 s of the return',
      );
      const resumedMs = Date.now() - back;

      const unique = () => new Set(sink.messages.map((m) => m.headers.get('message-id'))).size;
      await eventually(() => unique() >= CONTACTS, 60_000, 'every invitation delivered');
      await eventually(
        async () => {
          const r = await call('GET', '/mail/status');
          return r.ok && ((await r.json()) as { waiting: number }).waiting === 0;
        },
        30_000,
        'every email recorded',
      );
      alive();
      const duplicates = sink.messages.length - unique();
      t.diagnostic(
        `${atCut} sent before the cut, ${beforeReturn - atCut} during it; resumed ${resumedMs} ms after the return; ${duplicates} duplicates`,
      );
      assert.ok(duplicates <= 10, `${duplicates} duplicates (at most the SMTP pool size, 5, per process)`);
    });
  },
);
