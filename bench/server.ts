import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db } from '../src/db/database.ts';
import { freePort } from './ports.ts';

export const BENCH_KEY = 'admit_bench_key_0123456789abcdefghijklmnop';

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API
export type Json = Record<string, any>;

export interface BenchServer {
  base: string;
  process: ChildProcess;
  /** The server's DATABASE_URL. */
  databaseUrl: string;
  /** `admit worker` on the server's database and configuration (scale-out as deployed). */
  startWorker(): Promise<ChildProcess>;
  /** A CLI command (`admit <args>`) on the server's database; throws unless it exits 0. */
  cli(...args: string[]): Promise<void>;
  /** An API call with the bench key; throws on a 4xx or 5xx. */
  api(method: string, p: string, body?: unknown, contentType?: string): Promise<Json>;
  stop(): Promise<void>;
}

/**
 * The node flags and environment settings of `npm start` (package.json), so the server runs with
 * the same memory settings as deployed: `[NAME=value …] node <flags> dist/src/main.js serve`.
 */
function startSettings(): { flags: string[]; env: Record<string, string> } {
  const here = path.dirname(new URL(import.meta.url).pathname);
  const file = ['../package.json', '../../package.json']
    .map((p) => path.resolve(here, p))
    .find((p) => existsSync(p));
  const start = file ? (JSON.parse(readFileSync(file, 'utf8')).scripts?.start ?? '') : '';
  const m = /((?:\b[A-Z_]+=\S+\s+)*)\bnode\s+(.*?)\s*dist\/src\/main\.js serve/.exec(start);
  if (!m) throw new Error('package.json: no `node … dist/src/main.js serve` in scripts.start');
  const env = Object.fromEntries(
    (m[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
  return { flags: (m[2] ?? '').split(/\s+/).filter(Boolean), env };
}

/**
 * `admit serve`, compiled and with the node flags and environment settings of `npm start`, in a child process on a free
 * loopback port, with its own data directory, the bench API key and rate limits out of the way.
 * `database` is `sqlite` or a PostgreSQL URL; `env` adds to its environment. BENCH_PROFILE_DIR set:
 * the server writes a CPU profile there.
 */
export async function startBenchServer(
  database: string | undefined,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<BenchServer> {
  const { flags: nodeFlags, env: startEnv } = startSettings();
  const dataDir = mkdtempSync(path.join(tmpdir(), `admit-${name}-bench-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const databaseUrl =
    database === 'sqlite' || !database ? `sqlite:${path.join(dataDir, 'admit.db')}` : database;
  const childEnv = {
    ...process.env,
    ...startEnv,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ADMIT_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstu',
    ADMIT_BOOTSTRAP_API_KEY: BENCH_KEY,
    ADMIT_RATE_LIMIT_PER_IP: '1000000',
    ADMIT_RATE_LIMIT_GLOBAL: '1000000',
    ADMIT_RATE_LIMIT_PER_ACCOUNT: '1000000',
    ADMIT_RATE_LIMIT_PER_CODE: '1000000',
    LOG_LEVEL: 'warn',
    ...env,
  };
  const main = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/main.js');
  /** `admit <command>`, once it says it is running. */
  const startAdmit = async (command: 'serve' | 'worker', flags: string[] = []) => {
    const child = spawn(process.execPath, [...flags, main, command], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) =>
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('is running') && resolve()),
    );
    return child;
  };
  const child = await startAdmit('serve', [
    ...nodeFlags,
    ...(process.env.BENCH_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
      : []),
  ]);
  return {
    base,
    process: child,
    databaseUrl,
    startWorker: () => startAdmit('worker', nodeFlags),
    async cli(...args) {
      const child = spawn(process.execPath, [...nodeFlags, main, ...args], {
        env: childEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      for (const s of [child.stdout, child.stderr]) s?.on('data', (d: Buffer) => (output += d));
      const code = await new Promise((r) => child.on('exit', r));
      if (code !== 0) throw new Error(`admit ${args.join(' ')} exited with ${code}: ${output.slice(-2000)}`);
    },
    async api(method, p, body, contentType = 'application/json') {
      const r = await fetch(`${base}/api/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${BENCH_KEY}`, ...(body ? { 'content-type': contentType } : {}) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      if (r.status >= 400) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
      return r.status === 204 ? {} : ((await r.json()) as Json);
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until no email is pending or sending (one row looked up through the status index every
 * 200 ms, not a count of every sent row, which would load the database being measured), then checks
 * that `n` were sent and returns the instant of the last record (its sentAt, written as the sink's
 * acceptance came back), not that of the poll that saw it.
 */
export async function lastEmailSentAt(db: Db, n: number): Promise<number> {
  for (;;) {
    const waiting = await db
      .selectFrom('emails')
      .select('id')
      .where('status', 'in', ['pending', 'sending'])
      .limit(1)
      .executeTakeFirst();
    if (!waiting) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const sent = await db
    .selectFrom('emails')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.max('sent_at').as('last')])
    .where('status', '=', 'sent')
    .executeTakeFirstOrThrow();
  if (Number(sent.n) !== n) throw new Error(`${sent.n} of ${n} emails were sent`);
  return Date.parse(String(sent.last));
}
