import type { CompiledQuery } from 'kysely';
import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { derivedId, newId } from '../../ids.ts';
import { enqueueOnceWrites, enqueueWrites } from '../../jobs/enqueue.ts';
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

/** The span of one windowed publication (eventWindowWrites). */
export const WINDOW_MS = 1000;
/** How long after its window's end a windowed publication runs, for the window's last commits. */
export const WINDOW_GRACE_MS = 5000;

/**
 * Like eventPublishWrites, for a stream of small commits (every accepted email): the events are
 * written at `now`, and instead of a job per commit, one publication per WINDOW_MS of events of this
 * type, shared by every commit in the window (a job with an id derived from the window, written
 * unless it exists). It runs WINDOW_GRACE_MS after the window closes and publishes the window's
 * events; publication is idempotent, so a window published twice adds nothing.
 */
export function eventWindowWrites(conn: Conn, now: Date, events: readonly NewEvent[]): CompiledQuery[] {
  if (events.length === 0) return [];
  const at = now.toISOString();
  const stored: StoredEvent[] = events.map((e) => ({
    id: newId(),
    type: e.type,
    data: e.data,
    createdAt: at,
  }));
  const writes = eventWrites(conn, stored);
  const from = Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS;
  for (const type of new Set(events.map((e) => e.type))) {
    const window = { type, from: new Date(from).toISOString(), to: new Date(from + WINDOW_MS).toISOString() };
    writes.push(
      ...enqueueOnceWrites(conn, now, {
        id: derivedId(from, `${PUBLISH_JOB}:${type}:${from}`),
        type: PUBLISH_JOB,
        payload: { window },
        runAt: new Date(from + WINDOW_MS + WINDOW_GRACE_MS).toISOString(),
      }),
    );
  }
  return writes;
}
