import type { CompiledQuery } from 'kysely';
import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { derivedId, idTimeMs, newId } from '../../ids.ts';
import { enqueueOnceWrites, enqueueWrites } from '../../jobs/enqueue.ts';
import { deleteEventsBefore, eventWrites, type StoredEvent } from './event.repository.ts';
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
  for (let i = 0; i < stored.length; i += EVENTS_PER_JOB) {
    const batch = stored.slice(i, i + EVENTS_PER_JOB);
    jobs.push({
      type: PUBLISH_JOB,
      payload: { eventIds: batch.map((e) => e.id), types: [...new Set(batch.map((e) => e.type))] },
    });
  }
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

/**
 * The worker sweep that keeps `days` of events: older ones are deleted with their deliveries and
 * attempts, unless a delivery of theirs still waits to be sent.
 */
export const pruneEvents =
  (days: number) =>
  (deps: Pick<Deps, 'db'>, now: Date): Promise<number> =>
    deleteEventsBefore(deps.db, new Date(now.getTime() - days * 86_400_000).toISOString());

/** The span of one windowed publication (windowPublicationWrites). */
export const WINDOW_MS = 1000;
/** How long after its window's end a windowed publication runs, for the window's last commits. */
export const WINDOW_GRACE_MS = 5000;
/** A commit this long after its window's end may miss the window's publication: it has its own. */
const LATE_AFTER_MS = 1000;
/** When a window is published a second time, for a commit that straddled the first. */
export const SECOND_PASS_MS = 60_000;

/** The id of the event a record (`key`, a UUIDv7, so the event sorts with it) publishes once. */
export const keyedEventId = (type: string, key: string): string => derivedId(idTimeMs(key), `${type}:${key}`);

/** A window of events to publish: those of `type` whose records were made in [from, to). */
export type EventWindow = { type: string; from: string; to: string; pass?: number };

/**
 * For a stream of small commits (every accepted email) whose events are derived from their records
 * when published (events/event.publish.ts, WindowSource), so that each commit writes none: the
 * statement that makes sure the publication of each record's window of WINDOW_MS exists, a job with
 * an id derived from the window, shared by every commit in it (written unless it exists, and not
 * written for a window in `committed`, the caller's record of the windows whose job it has
 * committed). It runs WINDOW_GRACE_MS after the window ends. A commit made more than LATE_AFTER_MS
 * after its record's window ended gets a publication of its own for that window, as the window's
 * may have run. Returns the statements and the keys of the windows they open, for the caller to
 * add to `committed` once they commit.
 */
export function windowPublicationWrites(
  conn: Conn,
  now: Date,
  records: readonly { type: string; at: string }[],
  committed: ReadonlySet<string> = new Set(),
): { writes: CompiledQuery[]; windows: string[] } {
  const writes: CompiledQuery[] = [];
  const windows: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    const from = Math.floor(Date.parse(r.at) / WINDOW_MS) * WINDOW_MS;
    const late = now.getTime() > from + WINDOW_MS + LATE_AFTER_MS;
    const at = late ? Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS : from;
    const key = `${PUBLISH_JOB}:${r.type}:${from}${late ? `:late:${at}` : ''}`;
    if (seen.has(key) || committed.has(key)) continue;
    seen.add(key);
    windows.push(key);
    const id = derivedId(at, key);
    const window: EventWindow = {
      type: r.type,
      from: new Date(from).toISOString(),
      to: new Date(from + WINDOW_MS).toISOString(),
    };
    writes.push(
      ...enqueueOnceWrites(conn, now, {
        id,
        type: PUBLISH_JOB,
        payload: { window },
        runAt: new Date(at + WINDOW_MS + WINDOW_GRACE_MS).toISOString(),
      }),
    );
  }
  return { writes, windows };
}
