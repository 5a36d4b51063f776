import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import type { Job } from '../../jobs/worker.ts';
import { eventWrites, findEventsByIds, type StoredEvent } from './event.repository.ts';
import { type EventWindow, PUBLISH_JOB, SECOND_PASS_MS } from './event.service.ts';
import * as repo from './webhook.repository.ts';
import { deliveryJobs, newDelivery } from './webhook.service.ts';

/**
 * Whoever else an event goes to (the workflows it starts): `wants` says, from a read, whether it
 * may concern events of any of these types; `consume` is told inside the publication's transaction
 * and must be idempotent, because a publication that fails runs again.
 */
export interface EventConsumer {
  wants(conn: Conn, types: readonly string[]): Promise<boolean>;
  consume(trx: Conn, deps: Deps, events: readonly StoredEvent[]): Promise<void>;
}

/**
 * The events of a window, derived from the records committed in it (a stream of small commits that
 * write no event rows: events/event.service.ts, windowPublicationWrites). Each event's id is the
 * same however often it is derived (keyedEventId).
 */
export type WindowSource = (conn: Conn, window: EventWindow) => Promise<StoredEvent[]>;

/**
 * The `event.publish` job: a delivery for each enabled endpoint subscribed to each event (`*` or
 * its type), their delivery jobs, and the consumers' work, in one transaction. Run twice, it adds
 * nothing the first run made (one delivery per endpoint and event). Events nobody listens to are
 * not read (a job names the types of its events). A window's events come from its type's
 * WindowSource and are stored then; a window with listeners is published once more
 * SECOND_PASS_MS later, for a commit that straddled the first.
 */
export function eventPublisher(
  consumers: readonly EventConsumer[],
  windowSources: ReadonlyMap<string, WindowSource> = new Map(),
) {
  return async (
    job: Job & { payload: { eventIds: string[]; types?: string[] } | { window: EventWindow } },
    deps: Deps,
  ): Promise<void> => {
    const window = 'window' in job.payload ? (job.payload.window as EventWindow) : null;
    const listed = window ? null : (job.payload as { eventIds: string[]; types?: string[] });
    let events = listed && !listed.types ? await findEventsByIds(deps.db, listed.eventIds) : null;
    const types = window ? [window.type] : (listed?.types ?? [...new Set((events ?? []).map((e) => e.type))]);
    if (types.length === 0) return;
    const endpoints = (await repo.findEndpoints(deps.db, { limit: 10_000, enabledOnly: true })).filter((e) =>
      types.some((t) => e.eventTypes.includes('*') || e.eventTypes.includes(t)),
    );
    const wanting: EventConsumer[] = [];
    for (const c of consumers) if (await c.wants(deps.db, types)) wanting.push(c);
    if (endpoints.length === 0 && wanting.length === 0) return;
    if (listed && !events) events = await findEventsByIds(deps.db, listed.eventIds);
    const derived = window ? ((await windowSources.get(window.type)?.(deps.db, window)) ?? []) : [];
    const found = events ?? derived;
    await deps.db.transaction().execute(async (trx) => {
      for (const q of eventWrites(trx, derived, { skipExisting: true })) await trx.executeQuery(q);
      if (window && (window.pass ?? 1) === 1)
        await enqueue(trx, deps.now(), {
          type: PUBLISH_JOB,
          payload: { window: { ...window, pass: 2 } },
          runAt: new Date(deps.now().getTime() + SECOND_PASS_MS).toISOString(),
        });
      if (found.length === 0) return;
      const done =
        endpoints.length > 0
          ? await repo.findDeliveredPairs(
              trx,
              found.map((e) => e.id),
            )
          : new Set();
      const at = deps.now().toISOString();
      const deliveries = [];
      for (const event of found)
        for (const e of endpoints)
          if (
            (e.eventTypes.includes('*') || e.eventTypes.includes(event.type)) &&
            event.type !== 'webhook_endpoint.test' &&
            !done.has(`${e.id}:${event.id}`)
          )
            deliveries.push(newDelivery(e.id, event, at));
      await repo.insertDeliveries(trx, deliveries);
      await enqueue(trx, deps.now(), deliveryJobs(deliveries.map((d) => d.id)));
      for (const c of wanting) await c.consume(trx, deps, found);
    });
    deps.notifyJobs();
  };
}
