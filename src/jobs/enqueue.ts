import { insertMany, insertManyWrites } from '../db/bulk.ts';
import type { Conn } from '../db/database.ts';
import { json } from '../db/values.ts';
import { newId } from '../ids.ts';

/**
 * Writes a job row inside the caller's transaction (the transactional outbox): the work exists if
 * and only if the change that asked for it committed. Workers claim rows after commit.
 */
export interface JobRequest {
  type: string;
  payload: Record<string, unknown>;
  /** Not before this instant (default: now). */
  runAt?: string;
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 10;

export async function enqueue(
  trx: Conn,
  now: Date,
  jobs: JobRequest | readonly JobRequest[],
): Promise<string[]> {
  const rows = jobRows(now, jobs);
  await insertMany(trx, 'jobs', JOB_COLUMNS, rows);
  return rows.map((r) => r.id);
}

/** The statements `enqueue` runs, for a caller that runs them with its own (db/write-batch.ts). */
export const enqueueWrites = (trx: Conn, now: Date, jobs: JobRequest | readonly JobRequest[]) =>
  insertManyWrites(trx, 'jobs', JOB_COLUMNS, jobRows(now, jobs));

const JOB_COLUMNS = {
  id: 'text',
  type: 'text',
  payload: 'jsonb',
  status: 'text',
  run_at: 'timestamptz',
  attempts: 'int',
  max_attempts: 'int',
  locked_by: 'text',
  locked_until: 'timestamptz',
  last_error: 'text',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
};

function jobRows(now: Date, jobs: JobRequest | readonly JobRequest[]) {
  const list = Array.isArray(jobs) ? (jobs as readonly JobRequest[]) : [jobs as JobRequest];
  const at = now.toISOString();
  return list.map((j) => ({
    id: newId(),
    type: j.type,
    payload: json(j.payload),
    status: 'queued' as const,
    run_at: j.runAt ?? at,
    attempts: 0,
    max_attempts: j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: at,
    updated_at: at,
  }));
}

/**
 * The statement that writes a job with a given id unless a job with that id exists (a job shared by
 * several writers, e.g. one publication per window of events), for the caller's transaction or
 * write batch.
 */
export function enqueueOnceWrites(trx: Conn, now: Date, job: JobRequest & { id: string }) {
  const [row] = jobRows(now, job);
  return [
    trx
      .insertInto('jobs')
      .values({ ...(row as ReturnType<typeof jobRows>[number]), id: job.id })
      .onConflict((oc) => oc.column('id').doNothing())
      .compile(),
  ];
}
