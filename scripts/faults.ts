/**
 * `npm run faults`: the duplicate bound and the resumption time, measured through real faults.
 * Starts a private PostgreSQL cluster (initdb and pg_ctl as the `postgres` user; run as root), a
 * recording SMTP server on loopback, and per run a fresh database with `admit serve` and
 * `admit worker` processes. Each run bulk-sends FAULT_CONTACTS invitations and, part way through,
 * injects one fault:
 * - `pg-restart`: `pg_ctl stop -m fast`, DOWN_MS of no database, `pg_ctl start`: a real restart;
 * - `kill-worker`: SIGKILL of the `admit worker` process, which is then started again.
 * It waits until every invitation was delivered and recorded, and reports per fault the worst and
 * median duplicates (messages the server accepted twice), the time from the fault's end to the next
 * accepted message, and whether a process died. Results go to stdout and scripts/faults.json.
 * FAULT_RUNS (default 10) sets the runs per fault.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SmtpSink } from '../test/support/smtp-sink.ts';

const RUNS = Number(process.env.FAULT_RUNS ?? 10);
const CONTACTS = Number(process.env.FAULT_CONTACTS ?? 2000);
const LEASE_SECONDS = 5;
const DOWN_MS = 5_000;
const API_KEY = 'admit_faults_key_0123456789abcdefghijklmnop';
const MAIN = path.resolve('src/main.ts');
const here = path.dirname(new URL(import.meta.url).pathname);

const pgBin = (() => {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root)
    .sort((a, b) => Number(a) - Number(b))
    .pop();
  return path.join(root, version as string, 'bin');
})();
const asPostgres = (tool: string, args: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', path.join(pgBin, tool), ...args], { stdio: 'ignore' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

const freePort = async () => {
  const net = await import('node:net');
  return new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
};

// The private cluster.
const pgDir = mkdtempSync(path.join(tmpdir(), 'admit-faults-pg-'));
execFileSync('chown', ['postgres', pgDir]);
const pgPort = await freePort();
asPostgres('initdb', ['-D', `${pgDir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
const pgOptions = `-p ${pgPort} -k ${pgDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
asPostgres('pg_ctl', ['-D', `${pgDir}/data`, '-l', `${pgDir}/log`, '-w', 'start', '-o', pgOptions]);
const admin = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;

const sink = new SmtpSink();
await sink.start();
sink.delayEach(10);

interface Outcome {
  fault: string;
  duplicates: number;
  resumedMs: number;
  died: string[];
}

async function oneRun(fault: 'pg-restart' | 'kill-worker', n: number): Promise<Outcome> {
  const name = `admit_faults_${fault.replace('-', '_')}_${n}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`drop database if exists ${name}`);
  await client.query(`create database ${name}`);
  await client.end();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'admit-faults-data-'));
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/${name}`,
    DATA_DIR: dataDir,
    SMTP_URL: sink.url,
    MAIL_FROM: 'Portal <portal@example.test>',
    ADMIT_SECRET: 'faults-script-secret-0123456789abcdefghijklm',
    ADMIT_BOOTSTRAP_API_KEY: API_KEY,
    ADMIT_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'error',
  };
  const procs = new Map<string, ChildProcess>();
  const start = (role: 'serve' | 'worker') => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, role], { env, stdio: 'ignore' });
    procs.set(role, child);
    return child;
  };
  const base = `http://127.0.0.1:${port}/api/v1`;
  const call = async (method: string, p: string, body?: string, type = 'application/json') => {
    const r = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': type } : {}) },
      ...(body ? { body } : {}),
    });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, unknown>>;
  };
  const killed = new Set<ChildProcess>();
  try {
    start('serve');
    await until(
      () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
      'admit serve',
    );
    start('worker');
    const website = await call('POST', '/websites', JSON.stringify({ name: 'Faults', slug: `f${n}` }));
    const csv = `firstName,lastName,email\n${Array.from({ length: CONTACTS }, (_, i) => `F,${i},f${n}.${i}@example.test`).join('\n')}\n`;
    await call('POST', '/contacts/import', csv, 'text/csv');
    const ids: string[] = [];
    for (let cursor: unknown = ''; cursor !== null; ) {
      const page = await call('GET', `/contacts?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...(page.items as { id: string }[]).map((c) => c.id));
      cursor = page.nextCursor;
    }
    const before = sink.messages.length;
    await call(
      'POST',
      '/invitations/bulk',
      JSON.stringify({ websiteId: website.id, contactIds: ids, send: true }),
    );
    await until(() => sink.messages.length - before >= CONTACTS / 4, 60_000, 'a quarter sent');
    if (fault === 'pg-restart') {
      asPostgres('pg_ctl', ['-D', `${pgDir}/data`, '-m', 'fast', '-w', 'stop']);
      await sleep(DOWN_MS);
      asPostgres('pg_ctl', ['-D', `${pgDir}/data`, '-l', `${pgDir}/log`, '-w', 'start', '-o', pgOptions]);
    } else {
      const worker = procs.get('worker') as ChildProcess;
      killed.add(worker);
      worker.kill('SIGKILL');
      await sleep(500);
      start('worker');
    }
    const faultEnded = Date.now();
    const atEnd = sink.messages.length;
    await until(() => sink.messages.length > atEnd, 60_000, 'a message after the fault');
    const resumedMs = Date.now() - faultEnded;
    const mine = () => sink.messages.slice(before).filter((m) => m.to.some((t) => t.startsWith(`f${n}.`)));
    const unique = () => new Set(mine().map((m) => m.headers.get('message-id'))).size;
    await until(() => unique() >= CONTACTS, 120_000, 'every invitation delivered');
    await until(
      async () => ((await call('GET', '/mail/status')) as { waiting: number }).waiting === 0,
      60_000,
      'every email recorded',
    );
    const died = [...procs].filter(([, c]) => !killed.has(c) && c.exitCode !== null).map(([role]) => role);
    return { fault, duplicates: mine().length - unique(), resumedMs, died };
  } finally {
    for (const c of procs.values()) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results: Outcome[] = [];
try {
  for (const fault of ['pg-restart', 'kill-worker'] as const) {
    for (let i = 0; i < RUNS; i++) {
      const r = await oneRun(fault, i);
      results.push(r);
      process.stderr.write(
        `${fault} #${i + 1}: ${r.duplicates} duplicates, resumed in ${r.resumedMs} ms${r.died.length ? `, died: ${r.died}` : ''}\n`,
      );
    }
  }
} finally {
  await sink.stop();
  asPostgres('pg_ctl', ['-D', `${pgDir}/data`, '-m', 'immediate', 'stop']);
  rmSync(pgDir, { recursive: true, force: true });
}
const summary = (['pg-restart', 'kill-worker'] as const).map((fault) => {
  const rs = results.filter((r) => r.fault === fault);
  return {
    fault,
    runs: rs.length,
    contacts: CONTACTS,
    worstDuplicates: Math.max(...rs.map((r) => r.duplicates)),
    medianDuplicates: median(rs.map((r) => r.duplicates)),
    worstResumedMs: Math.max(...rs.map((r) => r.resumedMs)),
    medianResumedMs: median(rs.map((r) => r.resumedMs)),
    processDeaths: rs.reduce((n, r) => n + r.died.length, 0),
  };
});
writeFileSync(
  path.join(here, 'faults.json'),
  `${JSON.stringify({ date: new Date().toISOString(), summary, results }, null, 2)}\n`,
);
console.table(summary);
