import { type Selectable, sql } from 'kysely';
import type { Conn } from '../db/database.ts';
import { isPostgres } from '../db/dialect.ts';
import type { JobsTable } from '../db/schema.ts';
import { instant, parsed } from '../db/values.ts';

export interface Job {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  runAt: string;
  /** Why the stored payload is not a JSON object (the worker dead-letters such a job at once). */
  payloadError?: string;
}

function toJob(r: Selectable<JobsTable>): Job {
  const job = {
    id: r.id,
    type: r.type,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAt: instant(r.run_at),
  };
  try {
    const payload = parsed<unknown>(r.payload);
    if (payload !== null && typeof payload === 'object' && !Array.isArray(payload))
      return { ...job, payload: payload as Record<string, unknown> };
    return { ...job, payload: {}, payloadError: 'the payload is not a JSON object' };
  } catch (err) {
    return { ...job, payload: {}, payloadError: `the payload is not JSON (${(err as Error).message})` };
  }
}

/** How long past its lease's end a running job waits before another worker may take it over. */
export const TAKEOVER_GRACE_MS = 3_000;

/**
 * Claims up to `limit` due jobs of the given types for `workerId` until `leaseUntil`: queued jobs
 * whose time has come, and running jobs whose lease ran out more than TAKEOVER_GRACE_MS ago (their
 * worker died; a live worker whose renewals failed during a database outage renews within the grace
 * once the database is back, so its job is not run twice). `exclude` names jobs never to claim. On PostgreSQL the
 * candidate rows are locked with FOR UPDATE SKIP LOCKED, so concurrent workers never claim the same
 * job; on SQLite the single writer gives the same guarantee.
 */
export async function claimJobs(
  conn: Conn,
  q: {
    types: readonly string[];
    limit: number;
    workerId: string;
    now: string;
    leaseUntil: string;
    exclude?: readonly string[];
  },
): Promise<Job[]> {
  if (q.types.length === 0) return [];
  const takeoverBefore = new Date(Date.parse(q.now) - TAKEOVER_GRACE_MS).toISOString();
  let due = conn
    .selectFrom('jobs')
    .select('id')
    .where('type', 'in', q.types)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', q.now)]),
        eb.and([eb('status', '=', 'running'), eb('locked_until', '<', takeoverBefore)]),
      ]),
    )
    .orderBy('run_at')
    .limit(q.limit);
  if (q.exclude && q.exclude.length > 0) due = due.where('id', 'not in', q.exclude);
  if (isPostgres(conn)) due = due.forUpdate().skipLocked();
  const rows = await conn
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      locked_by: q.workerId,
      locked_until: q.leaseUntil,
      attempts: eb('attempts', '+', 1),
      updated_at: q.now,
    }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return rows.map(toJob);
}

/** Extends the leases this worker still holds. */
export async function extendLeases(
  conn: Conn,
  workerId: string,
  ids: readonly string[],
  leaseUntil: string,
): Promise<void> {
  if (ids.length === 0) return;
  await conn
    .updateTable('jobs')
    .set({ locked_until: leaseUntil })
    .where('id', 'in', ids)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .execute();
}

export async function completeJob(conn: Conn, id: string, workerId: string, now: string): Promise<void> {
  await conn
    .updateTable('jobs')
    .set({ status: 'succeeded', locked_by: null, locked_until: null, last_error: null, updated_at: now })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .execute();
}

/** Back to the queue until `runAt`, or to the dead letter when `dead`. */
export async function failJob(
  conn: Conn,
  id: string,
  workerId: string,
  f: { error: string; runAt: string; dead: boolean; now: string },
): Promise<void> {
  await conn
    .updateTable('jobs')
    .set({
      status: f.dead ? 'dead' : 'queued',
      run_at: f.runAt,
      locked_by: null,
      locked_until: null,
      last_error: f.error.slice(0, 2000),
      updated_at: f.now,
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .execute();
}

/** Puts a running job back without counting the attempt (a graceful shutdown, a paused transport). */
export async function releaseJob(
  conn: Conn,
  id: string,
  workerId: string,
  runAt: string,
  now: string,
): Promise<void> {
  await conn
    .updateTable('jobs')
    .set((eb) => ({
      status: 'queued',
      run_at: runAt,
      locked_by: null,
      locked_until: null,
      attempts: sql<number>`case when ${eb.ref('attempts')} > 0 then ${eb.ref('attempts')} - 1 else 0 end`,
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .execute();
}

/**
 * Dead-letters the queued jobs no handler of this release knows that have been due since before
 * `dueBefore` (no process claimed them), with the reason. Returns how many.
 */
export async function deadLetterUnhandled(
  conn: Conn,
  known: readonly string[],
  dueBefore: string,
  now: string,
): Promise<number> {
  let types = conn
    .selectFrom('jobs')
    .select('type')
    .distinct()
    .where('status', '=', 'queued')
    .where('run_at', '<', dueBefore);
  if (known.length > 0) types = types.where('type', 'not in', known);
  let total = 0;
  for (const { type } of await types.execute()) {
    const result = await conn
      .updateTable('jobs')
      .set({
        status: 'dead',
        last_error: `No handler for job type ${type} in this release of Admit`,
        updated_at: now,
      })
      .where('type', '=', type)
      .where('status', '=', 'queued')
      .where('run_at', '<', dueBefore)
      .executeTakeFirst();
    total += Number(result.numUpdatedRows);
  }
  return total;
}

/** Deletes succeeded and dead jobs last changed before `before`, `batch` rows at a time. Returns how many. */
export async function pruneFinishedJobs(conn: Conn, before: string, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const old = conn
      .selectFrom('jobs')
      .select('id')
      .where('status', 'in', ['succeeded', 'dead'])
      .where('updated_at', '<', before)
      .limit(batch);
    const result = await conn.deleteFrom('jobs').where('id', 'in', old).executeTakeFirst();
    const n = Number(result.numDeletedRows);
    total += n;
    if (n < batch) return total;
  }
}

export interface JobsSummary {
  counts: { queued: number; running: number; succeeded: number; dead: number };
  oldestQueuedRunAt: string | null;
  recentDead: { id: string; type: string; attempts: number; lastError: string | null; updatedAt: string }[];
}

/** Jobs per status, the longest-waiting due job, and the latest dead-lettered ones (no payloads). */
export async function summarizeJobs(conn: Conn, now: string, deadLimit = 20): Promise<JobsSummary> {
  const rows = await conn
    .selectFrom('jobs')
    .select(['status', (eb) => eb.fn.countAll<string | number>().as('n')])
    .groupBy('status')
    .execute();
  const counts = { queued: 0, running: 0, succeeded: 0, dead: 0 };
  for (const r of rows) counts[r.status] = Number(r.n);
  const oldest = await conn
    .selectFrom('jobs')
    .select('run_at')
    .where('status', '=', 'queued')
    .where('run_at', '<=', now)
    .orderBy('run_at')
    .limit(1)
    .executeTakeFirst();
  const dead = await conn
    .selectFrom('jobs')
    .select(['id', 'type', 'attempts', 'last_error', 'updated_at'])
    .where('status', '=', 'dead')
    .orderBy('updated_at', 'desc')
    .limit(deadLimit)
    .execute();
  return {
    counts,
    oldestQueuedRunAt: oldest ? instant(oldest.run_at) : null,
    recentDead: dead.map((d) => ({
      id: d.id,
      type: d.type,
      attempts: d.attempts,
      lastError: d.last_error,
      updatedAt: instant(d.updated_at),
    })),
  };
}

/** Queued jobs of `type` due before `before` become due now (what they waited for is over). */
export async function wakeJobs(conn: Conn, type: string, before: string, now: string): Promise<void> {
  await conn
    .updateTable('jobs')
    .set({ run_at: now })
    .where('type', '=', type)
    .where('status', '=', 'queued')
    .where('run_at', '>', now)
    .where('run_at', '<', before)
    .execute();
}
