/**
 * The events benchmark (SPEC 11, issue 20), run by `npm run bench`:
 *   node dist/bench/webhooks.js <sqlite|postgres-url>
 * A. bare: this process POSTs N signed messages, one after another over a kept-alive connection,
 *    to a receiver on loopback (the loop an integrator's own sender would be);
 * B. Admit: `admit serve` with one endpoint on the same receiver subscribed to invitation.created;
 *    one POST /invitations/bulk (send: false) makes N invitations, so N events; the clock runs from
 *    its answer (the events committed) until the receiver has had all N (and, also reported, from
 *    the call).
 * Prints one JSON line.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { signatureHeader } from '../src/modules/events/webhook.http.ts';
import { BenchReceiver } from './receiver.ts';
import { startBenchServer } from './server.ts';

const N = Number(process.env.BENCH_EVENTS ?? 10_000);
const [database] = process.argv.slice(2);

async function bareLoop(url: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const key = Buffer.alloc(32, 7);
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const body = JSON.stringify({
      type: 'invitation.created',
      timestamp: new Date().toISOString(),
      data: { invitationId: `bench-${i}` },
    });
    const id = `msg_${i}`;
    const timestamp = Math.floor(Date.now() / 1000);
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatureHeader(id, timestamp, body, [key]),
          },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  agent.destroy();
  return (performance.now() - started) / 1000;
}

const bareReceiver = await new BenchReceiver().start();
const bareSeconds = await bareLoop(bareReceiver.url);
await bareReceiver.stop();

const receiver = await new BenchReceiver().start();
const server = await startBenchServer(database, 'webhooks', { ADMIT_WEBHOOK_ALLOW_PRIVATE: 'true' });
const website = await server.api('POST', '/websites', { name: 'Bench', slug: 'bench' });
const contactIds: string[] = [];
for (let i = 0; i < N; i += 1000) {
  const csv = `firstName,lastName,email\n${Array.from({ length: Math.min(1000, N - i) }, (_, k) => `Person,${i + k},person${i + k}@example.test`).join('\n')}\n`;
  const report = await server.api('POST', '/contacts/import', csv, 'text/csv');
  contactIds.push(
    ...(report.lines as { contactId?: string }[]).flatMap((r) => (r.contactId ? [r.contactId] : [])),
  );
}
if (contactIds.length !== N) throw new Error(`imported ${contactIds.length} contacts of ${N}`);
await server.api('POST', '/webhook-endpoints', { url: receiver.url, eventTypes: ['invitation.created'] });
const started = performance.now();
const bulk = await server.api('POST', '/invitations/bulk', { websiteId: website.id, contactIds });
if (bulk.created !== N) throw new Error(`bulk created ${bulk.created} of ${N}`);
// The events exist from here (they commit with the invitations): the delivery is timed from here.
const committed = performance.now();
await receiver.reached(N);
const seconds = (performance.now() - committed) / 1000;
const withCreation = (performance.now() - started) / 1000;
await server.stop();
await receiver.stop();

process.stdout.write(
  `${JSON.stringify({
    database: database === 'sqlite' ? 'sqlite' : 'postgres',
    events: N,
    bareSeconds: Number(bareSeconds.toFixed(2)),
    barePerSecond: Math.round(N / bareSeconds),
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(N / seconds),
    ratio: Number((bareSeconds / seconds).toFixed(2)),
    secondsWithCreation: Number(withCreation.toFixed(2)),
  })}\n`,
);
process.exit(0);
