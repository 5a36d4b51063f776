/**
 * The portal benchmark (SPEC 11, the portal issue), run by `npm run bench`:
 *   node dist/bench/portal.js <sqlite|postgres-url>
 * Starts `admit serve` (compiled, as `npm start` runs it; bench/server.ts), prepares invitations
 * through the API, then drives it over HTTP from this process:
 *   A. registrations through Single codes (landing GET, form GET, POST), 8 at a time;
 *   B. signed-in redemption: 50 signed-in contacts at once, each loading the Redeem Invitation form,
 *      posting a Group code, loading the confirmation and confirming (the POST that redeems), p50/p99
 *      of that POST: after 1,500 unmeasured redemptions
 *      (the server warms up, as a server in service is), first as fast as the server answers
 *      (saturated), then at a steady 200 redemptions/s (each client one every 250 ms);
 *   C. the steady load again while 8 registrations run at the same time (as fast as they can);
 *   D. the landing GET with a valid code (autocannon, 50 connections, 10 s, after 3 s unmeasured);
 *   E. 1,000 signed-in redemptions whose invitations run a two-step workflow, timed until the last
 *      redemption and until the last run succeeded.
 * Prints one JSON line with the numbers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import autocannon from 'autocannon';
import { type Json, startBenchServer } from './server.ts';

const [database] = process.argv.slice(2);
const PASSWORD = 'correct horse battery staple';
const REDEEMERS = 50;
const GROUP_CODES = 20;
const WARMUP_CODES = 30; // 50 clients × 30 codes: 1,500 redemptions before measuring
const REGISTRANTS = Number(process.env.BENCH_REGISTRANTS ?? 240);

const server = await startBenchServer(database, 'portal');
const { base, api } = server;

/** A browser: cookies and the CSRF token of the last page (node:http with keep-alive: a light client). */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
class Browser {
  cookies = new Map<string, string>();
  csrf = '';
  /** The tag of the invitation the last form showed (its hidden `invitation` field). */
  tag = '';
  request(method: 'GET' | 'POST', p: string, form?: Record<string, string>) {
    const started = performance.now();
    const body = form
      ? new URLSearchParams({ invitation: this.tag, ...form, _csrf: this.csrf }).toString()
      : undefined;
    return new Promise<{ status: number; location: string | null; ms: number }>((resolve, reject) => {
      const req = http.request(
        `${base}${p}`,
        {
          method,
          agent,
          headers: {
            cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(body
              ? {
                  'content-type': 'application/x-www-form-urlencoded',
                  'content-length': Buffer.byteLength(body),
                }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - started;
            for (const c of res.headers['set-cookie'] ?? []) {
              const [pair] = c.split(';');
              const i = (pair as string).indexOf('=');
              this.cookies.set((pair as string).slice(0, i), (pair as string).slice(i + 1));
            }
            const page = Buffer.concat(chunks).toString();
            const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
            if (token) this.csrf = token;
            const tag = /name="invitation" value="([^"]*)"/.exec(page)?.[1];
            if (tag !== undefined) this.tag = tag;
            resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? null, ms });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

const website = await api('POST', '/websites', { name: 'Bench portal', slug: 'bench' });
const role = await api('POST', `/websites/${website.id}/web-roles`, { name: 'Member' });
const slug = website.slug as string;

// Single invitations for the registrants, with their codes.
const contactIds: string[] = [];
for (let i = 0; i < REGISTRANTS; i++) {
  const c = await api('POST', '/contacts', {
    firstName: 'Reg',
    lastName: String(i),
    email: `reg${i}@example.test`,
  });
  contactIds.push(c.id);
}
const bulk = await api('POST', '/invitations/bulk', {
  websiteId: website.id,
  contactIds,
  webRoleIds: [role.id],
});
const singles: { code: string; email: string }[] = [];
for (const [i, item] of (bulk.items as Json[]).entries()) {
  singles.push({
    code: (await api('GET', `/invitations/${item.invitationId}/code`)).code,
    email: `reg${i}@example.test`,
  });
}
const groups: string[] = [];
for (let g = 0; g < WARMUP_CODES + GROUP_CODES * 2; g++) {
  const inv = await api('POST', '/invitations', {
    type: 'group',
    websiteId: website.id,
    maxRedemptions: 100_000,
    webRoleIds: [role.id],
  });
  groups.push(inv.code);
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0).toFixed(1));
};

let next = 0;
const registered: Browser[] = [];
async function registerOne(): Promise<boolean> {
  const index = next++;
  const s = singles[index];
  if (!s) return false;
  const b = new Browser();
  const landed = await b.request('GET', `/portal/${slug}/register?returnurl=%2F&invitation=${s.code}`);
  await b.request('GET', landed.location as string);
  const done = await b.request('POST', `/portal/${slug}/register`, {
    email: s.email,
    username: `reg_${index}`,
    password: PASSWORD,
    confirmPassword: PASSWORD,
  });
  if (done.status !== 303) throw new Error(`registration answered ${done.status}`);
  registered.push(b);
  return true;
}

// A. Registrations, 8 at a time.
const aCount = REGISTRANTS - 140;
const aStart = performance.now();
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < aCount) await registerOne();
  }),
);
const registrationsPerSecond = Number((aCount / ((performance.now() - aStart) / 1000)).toFixed(1));

// B and C. Signed-in redemption by 50 contacts at once.
const redeemers = registered.slice(0, REDEEMERS);
await Promise.all(redeemers.map((b) => b.request('GET', `/portal/${slug}/`)));
/**
 * Each of the 50 clients redeems `codes` one after another: as fast as the server answers
 * (`everyMs` 0: the server saturated, latency = queueing), or starting one every `everyMs`
 * (a steady load below saturation).
 */
async function redeemRound(codes: string[], everyMs = 0) {
  const cpu = cpuNow();
  const started = performance.now();
  const confirm: number[] = [];
  const post: number[] = [];
  await Promise.all(
    redeemers.map(async (b, i) => {
      if (everyMs) await new Promise((r) => setTimeout(r, (everyMs * i) / redeemers.length));
      for (const code of codes) {
        const started = performance.now();
        // As a browser: the form, the code, the confirmation page (its invitation tag), then the
        // POST that redeems. The CSRF secret changes at each redemption, so each round loads a form.
        await b.request('GET', `/portal/${slug}/redeem`);
        const r1 = await b.request('POST', `/portal/${slug}/redeem`, { code });
        await b.request('GET', `/portal/${slug}/redeem/confirm`);
        const r2 = await b.request('POST', `/portal/${slug}/redeem/confirm`, {});
        if (r1.status !== 303 || r2.status !== 303)
          throw new Error(`redeem answered ${r1.status}, ${r2.status}`);
        post.push(r1.ms);
        confirm.push(r2.ms);
        const rest = everyMs - (performance.now() - started);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
    }),
  );
  const used = cpuSince(cpu);
  return {
    redemptions: confirm.length,
    perSecond: Math.round(confirm.length / ((performance.now() - started) / 1000)),
    confirmP50: percentile(confirm, 50),
    confirmP99: percentile(confirm, 99),
    codePostP99: percentile(post, 99),
    serverCpuMsPerRedemption: Number((used.server / confirm.length).toFixed(2)),
    postgresCpuMsPerRedemption: Number((used.postgres / confirm.length).toFixed(2)),
  };
}
/**
 * CPU time used so far (ms) by the server process and by all PostgreSQL processes, from /proc:
 * a measure of the work per redemption that the machine's changing speed moves less than latency.
 */
function cpuNow(): { server: number; postgres: number } {
  const ticks = (pid: string) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return {
        comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(),
        t: Number(fields[11]) + Number(fields[12]),
      };
    } catch {
      return { comm: '', t: 0 };
    }
  };
  let postgres = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const p = ticks(pid);
    if (p.comm === 'postgres') postgres += p.t;
  }
  return { server: ticks(String(server.process.pid)).t * 10, postgres: postgres * 10 };
}
function cpuSince(start: { server: number; postgres: number }) {
  const now = cpuNow();
  return { server: now.server - start.server, postgres: now.postgres - start.postgres };
}

const STEADY_MS = 250; // 50 clients, one redemption each every 250 ms: 200 redemptions/s
const measured = groups.splice(WARMUP_CODES);
await redeemRound(groups);
const b1 = await redeemRound(measured.slice(0, GROUP_CODES / 2));
const steady = await redeemRound(measured.slice(GROUP_CODES / 2, GROUP_CODES), STEADY_MS);

let registering = true;
let registeredDuring = 0;
const background = Promise.all(
  Array.from({ length: 8 }, async () => {
    while (registering && (await registerOne())) registeredDuring++;
  }),
);
const cStart = performance.now();
const c1 = await redeemRound(measured.slice(GROUP_CODES, GROUP_CODES * 2), STEADY_MS);
const cSeconds = (performance.now() - cStart) / 1000;
registering = false;
await background;

// E. 1,000 redemptions each running a two-step workflow: 50 clients, 20 Group codes whose
// invitations run it. Timed until the last redemption, and until the last run succeeded.
const workflow = await api('POST', '/workflows', {
  name: 'Two steps',
  websiteId: website.id,
  steps: [
    { type: 'set-contact-fields', fields: { lastName: 'Member' } },
    { type: 'add-web-roles', webRoleIds: [role.id] },
  ],
});
const workflowCodes: string[] = [];
for (let g = 0; g < GROUP_CODES; g++) {
  const inv = await api('POST', '/invitations', {
    type: 'group',
    websiteId: website.id,
    maxRedemptions: 100_000,
    redemptionWorkflowId: workflow.id,
  });
  workflowCodes.push(inv.code);
}
const eStart = performance.now();
const e1 = await redeemRound(workflowCodes);
const redeemedAfter = (performance.now() - eStart) / 1000;
for (;;) {
  const left = await api('GET', `/workflow-runs?workflowId=${workflow.id}&limit=1&status=queued`);
  const running = await api('GET', `/workflow-runs?workflowId=${workflow.id}&limit=1&status=running`);
  if (left.items.length === 0 && running.items.length === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const runsDoneAfter = (performance.now() - eStart) / 1000;
const failedRuns = await api('GET', `/workflow-runs?workflowId=${workflow.id}&limit=1&status=failed`);
if (failedRuns.items.length > 0) throw new Error(`a run failed: ${JSON.stringify(failedRuns.items[0])}`);

// D. The landing GET with a valid code, after 3 s of the same unmeasured.
const landingUrl = `${base}/portal/${slug}/register?returnurl=%2F&invitation=${measured[0]}`;
await autocannon({ url: landingUrl, connections: 50, duration: 3 });
const landing = await autocannon({ url: landingUrl, connections: 50, duration: 10 });

await server.stop();
process.stdout.write(
  `${JSON.stringify({
    database: database === 'sqlite' || !database ? 'sqlite' : 'postgres',
    registrationsPerSecond,
    redemptionSaturated: b1,
    redemption: { ...steady, load: (REDEEMERS * 1000) / STEADY_MS },
    redemptionWhileRegistering: {
      ...c1,
      registrationsPerSecond: Number((registeredDuring / cSeconds).toFixed(1)),
    },
    redemptionsWithWorkflow: {
      redemptions: e1.redemptions,
      redeemedSeconds: Number(redeemedAfter.toFixed(2)),
      runsSucceededSeconds: Number(runsDoneAfter.toFixed(2)),
      confirmP99: e1.confirmP99,
    },
    landingGet: {
      requestsPerSecond: Math.round(landing.requests.average),
      p99: landing.latency.p99,
      non3xx: landing.non2xx - landing['3xx'],
    },
  })}\n`,
);
