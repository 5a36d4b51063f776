/**
 * Responsiveness under bulk work (SPEC 11, the reliability issue), run by `npm run bench`:
 *   node dist/bench/responsive.js <smtp-url>
 * Starts `admit serve` on SQLite (bench/server.ts) and, while each piece of bulk work runs, asks
 * `GET /healthz` and the portal landing (a valid Group code) one request at a time each, every
 * PROBE_EVERY_MS, recording every latency:
 *   import: POST /contacts/import of a 100,000-row CSV, until its operation is done;
 *   bulk:   POST /invitations/bulk of 10,000 contacts with send: true, until the last email is sent.
 * Prints one JSON line: per piece of work, its seconds and p50 / p99 / max of each probe.
 */
import { performance } from 'node:perf_hooks';
import { type Json, startBenchServer } from './server.ts';

const [smtpUrl] = process.argv.slice(2);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const BULK = Number(process.env.BENCH_EMAILS ?? 10_000);
const PROBE_EVERY_MS = 20;

const server = await startBenchServer('sqlite', 'responsive', {
  SMTP_URL: smtpUrl,
  MAIL_FROM: 'Portal <portal@example.test>',
});
const { api, base } = server;

/** Asks `url` one request at a time until `stop()`; returns the latencies (ms). */
function probe(url: string) {
  const ms: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      const r = await fetch(url, { redirect: 'manual' });
      await r.arrayBuffer();
      if (r.status >= 400) throw new Error(`${url}: ${r.status}`);
      ms.push(performance.now() - started);
      await new Promise((res) => setTimeout(res, PROBE_EVERY_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      const s = [...ms].sort((a, b) => a - b);
      const at = (q: number) => Number((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0).toFixed(1));
      return { requests: s.length, p50: at(0.5), p99: at(0.99), max: at(1) };
    },
  };
}

/** Polls an operation until it is no longer queued or running; returns it. */
async function finished(operation: Json): Promise<Json> {
  for (;;) {
    const op = await api('GET', `/operations/${operation.id}`);
    if (op.status !== 'queued' && op.status !== 'running') return op;
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** Runs `work` with both probes going; returns its seconds and both probes' latencies. */
async function whileProbing(landingUrl: string, work: () => Promise<void>) {
  const health = probe(`${base}/healthz`);
  const landing = probe(landingUrl);
  await new Promise((res) => setTimeout(res, 500));
  const started = performance.now();
  await work();
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  return { seconds, healthz: await health.stop(), landing: await landing.stop() };
}

async function measure() {
  const website = await api('POST', '/websites', { name: 'Bench', slug: 'bench' });
  const group = await api('POST', '/invitations', {
    type: 'group',
    websiteId: website.id,
    maxRedemptions: 100_000,
  });
  const landingUrl = `${base}/portal/bench/register?returnurl=%2F&invitation=${group.code}`;
  const csv = (rows: number, prefix: string) =>
    `firstName,lastName,email\n${Array.from({ length: rows }, (_, i) => `Person,${i},${prefix}${i}@example.test\n`).join('')}`;

  const importCsv = csv(IMPORT_ROWS, 'imported');
  const imported = await whileProbing(landingUrl, async () => {
    const op = await finished(await api('POST', '/contacts/import', importCsv, 'text/csv'));
    if (op.status !== 'succeeded' || op.created !== IMPORT_ROWS)
      throw new Error(`import: ${JSON.stringify(op).slice(0, 300)}`);
  });

  const small = await api('POST', '/contacts/import', csv(BULK, 'bulk'), 'text/csv');
  const ids = (small.lines as Json[]).map((l) => l.contactId as string);
  const bulk = await whileProbing(landingUrl, async () => {
    const result = await api('POST', '/invitations/bulk', {
      websiteId: website.id,
      contactIds: ids,
      send: true,
    });
    if (result.queued !== BULK) throw new Error(`bulk queued ${result.queued} of ${BULK}`);
    for (;;) {
      const status = await api('GET', '/mail/status');
      if (status.waiting === 0) break;
      await new Promise((res) => setTimeout(res, 200));
    }
  });
  return { database: 'sqlite', importRows: IMPORT_ROWS, bulkEmails: BULK, import: imported, bulk };
}

const result = await measure().finally(() => server.stop());
console.log(JSON.stringify(result));
