/**
 * The scale benchmark (SPEC 11 "Scale", the reliability issue), run by `npm run bench`:
 *   node dist/bench/scale.js <smtp-url> <sqlite|postgres-url>
 * Starts `admit serve` (bench/server.ts) and sends one CSV of 100,000 new contacts to
 * POST /invitations/bulk/csv with send: true: one bulk operation imports them, invites them and
 * queues their emails, and the worker sends them to smtp-sink. The clock runs from the request to
 * the last email recorded sent. Prints one JSON line: seconds, emails/s, the server's peak RSS.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/db/database.ts';
import { type Json, lastEmailSentAt, startBenchServer } from './server.ts';

const [smtpUrl, database] = process.argv.slice(2);
const N = Number(process.env.BENCH_SCALE ?? 100_000);

const server = await startBenchServer(database, 'scale', {
  SMTP_URL: smtpUrl,
  MAIL_FROM: 'Portal <portal@example.test>',
});
const peakRssMb = () =>
  Math.round(
    Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))?.[1] ?? 0) /
      1024,
  );

async function measure() {
  const website = await server.api('POST', '/websites', { name: 'Bench', slug: 'bench' });
  const csv = `firstName,lastName,email\n${Array.from({ length: N }, (_, i) => `Person,${i},person${i}@example.test\n`).join('')}`;
  const handle = openDatabase(server.databaseUrl);
  try {
    const startedAt = Date.now();
    const started = performance.now();
    const accepted: Json = await server.api(
      'POST',
      `/invitations/bulk/csv?websiteId=${website.id}&send=true`,
      csv,
      'text/csv',
    );
    const acceptedIn = (performance.now() - started) / 1000;
    let op: Json = accepted;
    while (op.status === 'queued' || op.status === 'running') {
      await new Promise((r) => setTimeout(r, 500));
      op = await server.api('GET', `/operations/${accepted.id}`);
    }
    const operationSeconds = (performance.now() - started) / 1000;
    if (op.status !== 'succeeded' || op.queued !== N)
      throw new Error(`operation: ${JSON.stringify(op).slice(0, 400)}`);
    const seconds = ((await lastEmailSentAt(handle.db, N)) - startedAt) / 1000;
    return {
      database: database === 'sqlite' ? 'sqlite' : 'postgres',
      emails: N,
      seconds: Number(seconds.toFixed(1)),
      perSecond: Math.round(N / seconds),
      acceptedSeconds: Number(acceptedIn.toFixed(1)),
      operationSeconds: Number(operationSeconds.toFixed(1)),
      peakRssMb: peakRssMb(),
    };
  } finally {
    await handle.close();
  }
}

const result = await measure().finally(() => server.stop());
console.log(JSON.stringify(result));
