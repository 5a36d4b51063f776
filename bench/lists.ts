/**
 * The admin lists with 100,000 contacts (the admin console issue: "lists stay fast"), run by
 * `npm run bench`:  node dist/bench/lists.js <sqlite|postgres-url>
 * Starts `admit serve` (bench/server.ts), imports 100,000 contacts through POST /contacts/import (one
 * CSV, timed until its bulk operation is done), then times what the console's Contacts screen asks, 30 times each, one at a time:
 * the first page, a page in the middle (by cursor), a search that matches many, a search for one
 * email and a search that matches nothing (the last two read every row). Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { startBenchServer } from './server.ts';

const [database] = process.argv.slice(2);
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const RUNS = 30;
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis'];
const LAST = Array.from({ length: 500 }, (_, i) => `Family${i}`);

const server = await startBenchServer(database, 'lists');
const person = (i: number) => {
  const first = FIRST[i % FIRST.length] as string;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length] as string;
  return { first, last, email: `${first}.${last}.${i}@example.test`.toLowerCase() };
};
const lines = ['firstName,lastName,email'];
for (let i = 0; i < CONTACTS; i++) {
  const p = person(i);
  lines.push(`${p.first},${p.last},${p.email}`);
}
const result = await measure().finally(() => server.stop());
console.log(JSON.stringify(result));

/** Imports the contacts, then times the console's requests; the server stops even when this throws. */
async function measure() {
  const started = performance.now();
  // 100,000 lines are more than one request imports: the answer is an operation, followed to its end.
  let op = await server.api('POST', '/contacts/import', `${lines.join('\n')}\n`, 'text/csv');
  while (op.status === 'queued' || op.status === 'running') {
    await new Promise((r) => setTimeout(r, 100));
    op = await server.api('GET', `/operations/${op.id}`);
  }
  const importSeconds = (performance.now() - started) / 1000;
  if (op.created !== CONTACTS) throw new Error(`imported ${op.created} of ${CONTACTS}`);
  const found = await server.api(
    'GET',
    `/contacts?limit=1&search=${encodeURIComponent(person(Math.floor(CONTACTS / 2)).email)}`,
  );
  const middle = found.items[0].id as string;

  async function timed(path: string, expect: (body: Record<string, unknown[]>) => boolean) {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      const body = await server.api('GET', path);
      ms.push(performance.now() - start);
      if (!expect(body)) throw new Error(`${path}: unexpected answer`);
    }
    ms.sort((a, b) => a - b);
    const at = (q: number) =>
      Number((ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] as number).toFixed(1));
    return { p50: at(0.5), p95: at(0.95) };
  }
  const full = (b: Record<string, unknown[]>) => b.items?.length === 25;
  return {
    database: database === 'sqlite' || !database ? 'sqlite' : 'postgres',
    contacts: CONTACTS,
    importSeconds: Number(importSeconds.toFixed(1)),
    importPerSecond: Math.round(CONTACTS / importSeconds),
    firstPage: await timed('/contacts?limit=25', full),
    middlePage: await timed(`/contacts?limit=25&cursor=${Buffer.from(middle).toString('base64url')}`, full),
    searchMany: await timed('/contacts?limit=25&search=family42', full),
    searchOneEmail: await timed(
      `/contacts?limit=25&search=${encodeURIComponent(person(CONTACTS - 9).email)}`,
      (b) => b.items?.length === 1,
    ),
    searchNothing: await timed('/contacts?limit=25&search=nobody-has-this', (b) => b.items?.length === 0),
  };
}
