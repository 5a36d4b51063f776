import { type Selectable, sql } from 'kysely';
import type { Conn, DialectName } from '../db/database.ts';
import type { JobsTable } from '../db/schema.ts';
import { instant, parsed } from '../db/values.ts';

export interface Job {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  runAt: string;
}

const toJob = (r: Selectable<JobsTable>): Job => ({
  id: r.id,
  type: r.type,
  payload: parsed(r.payload),
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  runAt: instant(r.run_at),
});

/**
 * Claims up to `limit` due jobs of the given types for `workerId` until `leaseUntil`: queued jobs
 * whose time has come, and running jobs whose lease ran out (their worker died). On PostgreSQL the
 * candidate rows are locked with FOR UPDATE SKIP LOCKED, so concurrent workers never claim the same
 * job; on SQLite the single writer gives the same guarantee.
 */
export async function claimJobs(
  conn: Conn,
  dialect: DialectName,
  q: { types: readonly string[]; limit: number; workerId: string; now: string; leaseUntil: string },
): Promise<Job[]> {
  if (q.types.length === 0) return [];
  let due = conn
    .selectFrom('jobs')
    .select('id')
    .where('type', 'in', q.types)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', q.now)]),
        eb.and([eb('status', '=', 'running'), eb('locked_until', '<', q.now)]),
      ]),
    )
    .orderBy('run_at')
    .limit(q.limit);
  if (dialect === 'postgres') due = due.forUpdate().skipLocked();
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
