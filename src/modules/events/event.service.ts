import type { CompiledQuery } from 'kysely';
import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { enqueueWrites } from '../../jobs/enqueue.ts';
import { eventWrites, type StoredEvent } from './event.repository.ts';
import type { NewEvent } from './event.types.ts';

/** The job that hands a transaction's events to their webhook endpoints and workflows. */
export const PUBLISH_JOB = 'event.publish';
/** Events per publication job. */
export const EVENTS_PER_JOB = 500;

/**
 * The statements that record `events` and the jobs that publish them, for the caller's transaction
 * or write batch: an event exists, and reaches integrators, exactly when the change it tells of
 * commits. Returns nothing to run for no events.
 */
export function eventPublishWrites(
  conn: Conn,
  deps: Pick<Deps, 'now'>,
  events: readonly NewEvent[],
): CompiledQuery[] {
  if (events.length === 0) return [];
  const now = deps.now();
  const at = now.toISOString();
  const stored: StoredEvent[] = events.map((e) => ({
    id: newId(),
    type: e.type,
    data: e.data,
    createdAt: at,
  }));
  const jobs = [];
  for (let i = 0; i < stored.length; i += EVENTS_PER_JOB)
    jobs.push({
      type: PUBLISH_JOB,
      payload: { eventIds: stored.slice(i, i + EVENTS_PER_JOB).map((e) => e.id) },
    });
  return [...eventWrites(conn, stored), ...enqueueWrites(conn, now, jobs)];
}

/** Records and queues `events` inside the caller's transaction (see eventPublishWrites). */
export async function publishEvents(
  trx: Conn,
  deps: Pick<Deps, 'now'>,
  events: readonly NewEvent[],
): Promise<void> {
  for (const q of eventPublishWrites(trx, deps, events)) await trx.executeQuery(q);
}
