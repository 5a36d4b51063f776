/**
 * One scenario of the bulk-send benchmark, run in a process of its own so its peak RSS is its own:
 *   node --import tsx bench/bulk-send.ts <nodemailer|admit> <smtp-url> [database-url]
 * Prints one JSON line: {scenario, emails, seconds, perSecond, peakRssMb}.
 *
 * admit: 10,000 contacts exist; one POST /invitations/bulk with send: true over real HTTP creates
 * 10,000 Single invitations and queues their emails; the in-process worker (as in `admit serve`)
 * delivers them. The clock stops when the last Email is recorded sent, which happens right after
 * the sink accepted it. nodemailer: the same pool size sends 10,000 messages of the same size.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { newId } from '../src/ids.ts';
import { jobHandlers } from '../src/jobs/registry.ts';
import { Worker } from '../src/jobs/worker.ts';
import { SMTP_POOL_SIZE } from '../src/mail/mailer.ts';
import { ensureBootstrapApiKey } from '../src/modules/users/user.service.ts';
import { startRuntime } from '../src/runtime.ts';

const N = Number(process.env.BENCH_EMAILS ?? 10_000);
const KEY = 'admit_bench_key_0123456789abcdefghijklmnop';
const [scenario, smtpUrl, databaseUrl] = process.argv.slice(2);

const EXTRA_WORKERS = Number(process.env.BENCH_WORKERS ?? 0);
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
/** Peak RSS of another process (VmHWM), in MB. */
const peakRssOf = (pid: number) =>
  Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
let workerPeaks: number[] = [];

/** CPU time (ms) of each thread of this process by name (Linux /proc; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = /\((.*)\)/.exec(stat)?.[1] ?? tid;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
      out.set(`${name}#${tid}`, ms);
    }
  } catch {}
  return out;
}
/** CPU ms per email of the threads that used at least 0.05 ms per email: the main thread first. */
function threadCpuPerEmail(before: Map<string, number>, n: number): string[] {
  return [...threadCpu()]
    .map(([key, ms]) => ({ key, used: (ms - (before.get(key) ?? 0)) / n }))
    .filter((t) => t.used >= 0.05)
    .sort(
      (a, b) =>
        Number(b.key.endsWith(`#${process.pid}`)) - Number(a.key.endsWith(`#${process.pid}`)) ||
        b.used - a.used,
    )
    .map(
      (t) =>
        `${t.key.endsWith(`#${process.pid}`) ? 'main' : t.key.slice(0, t.key.lastIndexOf('#'))} ${t.used.toFixed(2)}`,
    );
}
let work: Record<string, number> = {};

async function bareNodemailer(): Promise<number> {
  // Loaded here: the Admit scenario's process carries only what Admit loads.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: SMTP_POOL_SIZE,
    maxMessages: Number.POSITIVE_INFINITY,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const html = `<p>Hello Person,</p><p>You are invited. <a href="https://portal.example.test/portal/bench/register?returnurl=%2F&invitation=XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX">Accept</a></p>${'<p>filler</p>'.repeat(120)}`;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      transport.sendMail({
        from: 'Portal <portal@example.test>',
        to: `person${i}@example.test`,
        subject: "You're invited to Bench",
        html,
        text: html.replace(/<[^>]+>/g, ''),
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  transport.close();
  return seconds;
}

async function admit(): Promise<number> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'admit-bench-'));
  const url =
    databaseUrl && databaseUrl !== 'sqlite' ? databaseUrl : `sqlite:${path.join(dataDir, 'admit.db')}`;
  const config = loadConfig({
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    SMTP_URL: smtpUrl,
    ADMIT_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstu',
    LOG_LEVEL: 'warn',
    MAIL_FROM: 'Portal <portal@example.test>',
    ...(process.env.ADMIT_COMPOSE_THREADS
      ? { ADMIT_COMPOSE_THREADS: process.env.ADMIT_COMPOSE_THREADS }
      : {}),
  });
  // Assembled exactly as `admit serve` does it (runtime.ts): migrations, SMTP mailer, composer.
  const runtime = await startRuntime(config);
  const { deps, handle } = runtime;
  let worker: Worker | undefined;
  runtime.onJobs(() => worker?.nudge());
  await ensureBootstrapApiKey(deps, KEY);
  const at = new Date().toISOString();
  const contactIds: string[] = [];
  for (let i = 0; i < N; i += 500) {
    const rows = Array.from({ length: Math.min(500, N - i) }, (_, k) => {
      const id = newId();
      contactIds.push(id);
      const email = `person${i + k}@example.test`;
      return {
        id,
        first_name: 'Person',
        last_name: String(i + k),
        email,
        email_normalized: email,
        login_enabled: 0,
        email_confirmed: 0,
        created_at: at,
        updated_at: at,
      };
    });
    await handle.db.insertInto('contacts').values(rows).execute();
  }
  const app = await buildApp(deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const api = (p: string, body: unknown) =>
    fetch(`http://127.0.0.1:${port}/api/v1${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<{ id?: string; queued?: number }>);
  const website = await api('/websites', { name: 'Bench', slug: 'bench' });
  worker = new Worker(deps, jobHandlers(), { concurrency: config.workerConcurrency });
  worker.start();
  // Scale-out as deployed: extra `admit worker` processes on the same database.
  const workers = await Promise.all(
    Array.from({ length: EXTRA_WORKERS }, async () => {
      const child = spawn(
        process.execPath,
        [path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/main.js'), 'worker'],
        {
          env: {
            ...process.env,
            DATABASE_URL: url,
            DATA_DIR: dataDir,
            SMTP_URL: smtpUrl,
            ADMIT_SECRET: config.secret,
            LOG_LEVEL: 'warn',
            MAIL_FROM: config.mailFrom,
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((resolve) =>
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('is running') && resolve()),
      );
      return child;
    }),
  );

  const started = performance.now();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const threadsBefore = threadCpu();
  const result = await api('/invitations/bulk', { websiteId: website.id, contactIds, send: true });
  if (result.queued !== N)
    throw new Error(`bulk queued ${result.queued} of ${N}: ${JSON.stringify(result).slice(0, 300)}`);
  const createdIn = (performance.now() - started) / 1000;
  for (;;) {
    const r = await handle.db
      .selectFrom('emails')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', 'sent')
      .executeTakeFirstOrThrow();
    if (Number(r.n) >= N) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const seconds = (performance.now() - started) / 1000;
  // Work per email, which this shared machine's changing speed moves less than emails/s: the main
  // thread's busy time (event loop utilisation) and the CPU time of the whole process.
  const busy = performance.eventLoopUtilization(elu).active;
  const used = process.cpuUsage(cpu);
  work = {
    mainThreadMsPerEmail: Number((busy / N).toFixed(3)),
    cpuMsPerEmail: Number(((used.user + used.system) / 1000 / N).toFixed(3)),
  };
  const threads = threadCpuPerEmail(threadsBefore, N);
  process.stderr.write(
    `  (bulk call answered in ${createdIn.toFixed(2)} s; CPU ms per email by thread: ${threads.join(', ')})\n`,
  );
  workerPeaks = workers.map((w) => peakRssOf(w.pid as number));
  for (const w of workers) w.kill('SIGTERM');
  await worker.stop();
  await app.close();
  await runtime.close();
  rmSync(dataDir, { recursive: true, force: true });
  return seconds;
}

const seconds = scenario === 'nodemailer' ? await bareNodemailer() : await admit();
process.stdout.write(
  `${JSON.stringify({ scenario, emails: N, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(N / seconds), peakRssMb: peakRssMb(), ...work, ...(workerPeaks.length ? { workerPeakRssMb: workerPeaks } : {}) })}\n`,
);
process.exit(0);
