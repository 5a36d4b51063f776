import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import type { Deps } from '../context.ts';
import { httpLatency, httpRequests, processMetrics } from '../metrics.ts';
import { sendProblem } from './problem.ts';

/**
 * Counts every answered request by method, route (the route's pattern, never the raw path, so ids
 * and codes stay out of the labels) and status. Registered on the root app, before the routes.
 */
export function observeRequests(app: FastifyInstance): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? '(unmatched)';
    httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    httpLatency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    done();
  });
}

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * GET /metrics in the Prometheus text format: this process's counters (requests, redemptions, the
 * runtime's own) and the database's figures, read when scraped: jobs by type and status, emails by
 * kind and status, whether sending is paused, and the pool's connections. Off unless ADMIT_METRICS
 * says who may read it.
 */
export async function metricsRoutes(app: FastifyInstance, { deps }: { deps: Deps }): Promise<void> {
  const access = deps.config.metrics;
  if (access === 'off') return;
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (typeof access === 'object') {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!sameToken(given, access.token))
        return sendProblem(reply, 'UNAUTHENTICATED', 'Send the metrics token as "Authorization: Bearer …".');
    }
    const registry = client.Registry.merge([processMetrics, await databaseMetrics(deps)]);
    reply.header('content-type', registry.contentType);
    reply.header('cache-control', 'no-store');
    return registry.metrics();
  });
}

async function databaseMetrics(deps: Deps): Promise<client.Registry> {
  const registry = new client.Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new client.Gauge({ name, help, labelNames, registers: [registry] });

  const jobs = gauge('admit_jobs', 'Jobs in the job table, by type and status', ['type', 'status']);
  const jobRows = await deps.db
    .selectFrom('jobs')
    .select(['type', 'status', (eb) => eb.fn.countAll().as('n')])
    .groupBy(['type', 'status'])
    .execute();
  for (const r of jobRows) jobs.set({ type: r.type, status: r.status }, Number(r.n));

  const emails = gauge('admit_emails', 'Email records, by kind and status', ['kind', 'status']);
  const emailRows = await deps.db
    .selectFrom('emails')
    .select(['kind', 'status', (eb) => eb.fn.countAll().as('n')])
    .groupBy(['kind', 'status'])
    .execute();
  for (const r of emailRows) emails.set({ kind: r.kind, status: r.status }, Number(r.n));

  const state = await deps.db
    .selectFrom('mail_state')
    .select(['paused_reason', 'trouble'])
    .executeTakeFirst();
  gauge('admit_mail_paused', '1 while sending is paused (refused credentials), else 0', []).set(
    state?.paused_reason ? 1 : 0,
  );
  const trouble = gauge('admit_mail_trouble', '1 while the mail server is in this trouble, else 0', [
    'trouble',
  ]);
  for (const t of ['unreachable', 'deferring'] as const)
    trouble.set({ trouble: t }, state?.trouble === t ? 1 : 0);

  const pool = deps.dbPool();
  if (pool) {
    const connections = gauge('admit_db_pool_connections', 'PostgreSQL pool connections, by state', [
      'state',
    ]);
    connections.set({ state: 'open' }, pool.total);
    connections.set({ state: 'idle' }, pool.idle);
    gauge('admit_db_pool_waiting', 'Requests waiting for a PostgreSQL connection', []).set(pool.waiting);
  }
  return registry;
}
