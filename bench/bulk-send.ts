/**
 * One scenario of the bulk-send benchmark, run in a process of its own:
 *   node --import tsx bench/bulk-send.ts <nodemailer|admit> <smtp-url> [database-url]
 * Prints one JSON line: {scenario, emails, seconds, perSecond, peakRssMb, …}.
 *
 * admit: `admit serve` (compiled, as `npm start` runs it; bench/server.ts) in a child process, with
 * its job worker inside as deployed. 10,000 contacts are imported with `admit contacts import`; one
 * POST /invitations/bulk with send: true over HTTP creates 10,000 Single invitations and queues their
 * emails. The clock stops when the last Email is recorded sent, which happens right after the sink
 * accepted it. Peak RSS and CPU are the server's (from /proc), not this client's.
 * With BENCH_WEBHOOK=1 an endpoint on a receiver in this process gets every event; the clock still
 * stops at the last email, and when the receiver had every event is reported too.
 * nodemailer: the same pool size sends 10,000 messages of the same size, in this process.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/db/database.ts';
import { SMTP_POOL_SIZE } from '../src/mail/mailer.ts';
import { BenchReceiver } from './receiver.ts';
import { lastEmailSentAt, startBenchServer } from './server.ts';

const N = Number(process.env.BENCH_EMAILS ?? 10_000);
const [scenario, smtpUrl, databaseUrl] = process.argv.slice(2);

const EXTRA_WORKERS = Number(process.env.BENCH_WORKERS ?? 0);
/** BENCH_WEBHOOK=1: an endpoint on a loopback receiver is subscribed to every event. */
const WITH_WEBHOOK = process.env.BENCH_WEBHOOK === '1';
/** Peak RSS (VmHWM) of a process, in MB. */
const peakRssOf = (pid: number | 'self') =>
  Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
let serverPeak = 0;
let workerPeaks: number[] = [];

/** CPU time (ms) of each thread of process `pid` by name (Linux /proc). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = tid === String(pid) ? 'main' : (/\((.*)\)/.exec(stat)?.[1] ?? tid);
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
    out.set(`${name}#${tid}`, ms);
  }
  return out;
}
/** CPU ms per email of the threads that used at least 0.05 ms per email, the main thread first. */
function threadCpuPerEmail(pid: number, before: Map<string, number>, n: number) {
  const used = [...threadCpu(pid)].map(([key, ms]) => ({
    name: key.slice(0, key.lastIndexOf('#')),
    used: (ms - (before.get(key) ?? 0)) / n,
  }));
  return {
    total: used.reduce((a, t) => a + t.used, 0),
    main: used.find((t) => t.name === 'main')?.used ?? 0,
    shown: used
      .filter((t) => t.used >= 0.05)
      .sort((a, b) => Number(b.name === 'main') - Number(a.name === 'main') || b.used - a.used)
      .map((t) => `${t.name} ${t.used.toFixed(2)}`),
  };
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
  const server = await startBenchServer(databaseUrl ?? 'sqlite', 'bulk', {
    SMTP_URL: smtpUrl,
    MAIL_FROM: 'Portal <portal@example.test>',
    ...(WITH_WEBHOOK ? { ADMIT_WEBHOOK_ALLOW_PRIVATE: 'true' } : {}),
  });
  const receiver = WITH_WEBHOOK ? await new BenchReceiver().start() : null;
  if (receiver) await server.api('POST', '/webhook-endpoints', { url: receiver.url, eventTypes: ['*'] });
  const pid = server.process.pid as number;
  // The contacts come in as an operator's would, with `admit contacts import` (which refreshes the
  // planner's statistics after a large import); this client's own connection to the database then
  // reads their ids, and later watches the emails.
  const csv = path.join(mkdtempSync(path.join(tmpdir(), 'admit-bench-csv-')), 'contacts.csv');
  writeFileSync(
    csv,
    `firstName,lastName,email\n${Array.from({ length: N }, (_, i) => `Person,${i},person${i}@example.test\n`).join('')}`,
  );
  await server.cli('contacts', 'import', csv);
  rmSync(path.dirname(csv), { recursive: true });
  const handle = openDatabase(server.databaseUrl);
  const contactIds = (await handle.db.selectFrom('contacts').select('id').orderBy('id').execute()).map(
    (c) => c.id,
  );
  if (contactIds.length !== N) throw new Error(`imported ${contactIds.length} contacts of ${N}`);
  const website = await server.api('POST', '/websites', { name: 'Bench', slug: 'bench' });
  // Scale-out as deployed: extra `admit worker` processes on the same database.
  const workers = await Promise.all(Array.from({ length: EXTRA_WORKERS }, () => server.startWorker()));

  const started = performance.now();
  const startedAt = Date.now();
  const threadsBefore = threadCpu(pid);
  const result = await server.api('POST', '/invitations/bulk', {
    websiteId: website.id,
    contactIds,
    send: true,
  });
  if (result.queued !== N)
    throw new Error(`bulk queued ${result.queued} of ${N}: ${JSON.stringify(result).slice(0, 300)}`);
  const createdIn = (performance.now() - started) / 1000;
  const seconds = ((await lastEmailSentAt(handle.db, N)) - startedAt) / 1000;
  if (receiver) {
    // invitation.created and invitation.sent for each: every one delivered, and when.
    await receiver.reached(2 * N);
    work.webhooksDoneSeconds = Number(((Date.now() - startedAt) / 1000).toFixed(2));
    await receiver.stop();
  }
  // Work per email, which this shared machine's changing speed moves less than emails/s: the CPU
  // time of the server's main thread and of the whole server process.
  const threads = threadCpuPerEmail(pid, threadsBefore, N);
  work = {
    ...work,
    mainThreadMsPerEmail: Number(threads.main.toFixed(3)),
    cpuMsPerEmail: Number(threads.total.toFixed(3)),
  };
  process.stderr.write(
    `  (bulk call answered in ${createdIn.toFixed(2)} s; server CPU ms per email by thread: ${threads.shown.join(', ')})\n`,
  );
  serverPeak = peakRssOf(pid);
  workerPeaks = workers.map((w) => peakRssOf(w.pid as number));
  for (const w of workers) w.kill('SIGTERM');
  await handle.close();
  await server.stop();
  return seconds;
}

const seconds = scenario === 'nodemailer' ? await bareNodemailer() : await admit();
const peakRssMb = scenario === 'nodemailer' ? peakRssOf('self') : serverPeak;
process.stdout.write(
  `${JSON.stringify({ scenario, emails: N, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(N / seconds), peakRssMb, ...work, ...(workerPeaks.length ? { workerPeakRssMb: workerPeaks } : {}) })}\n`,
);
process.exit(0);
