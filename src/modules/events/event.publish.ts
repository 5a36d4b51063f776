import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import type { Job } from '../../jobs/worker.ts';
import { findEventsByIds, findEventsInWindow, type StoredEvent } from './event.repository.ts';
import * as repo from './webhook.repository.ts';
import { deliveryJobs, newDelivery } from './webhook.service.ts';

/**
 * Whoever else an event goes to (the workflows it starts): `wants` says, from a read, whether any of
 * the events concerns it; `consume` is told inside the publication's transaction and must be
 * idempotent, because a publication that fails runs again.
 */
export interface EventConsumer {
  wants(conn: Conn, events: readonly StoredEvent[]): Promise<boolean>;
  consume(trx: Conn, deps: Deps, events: readonly StoredEvent[]): Promise<void>;
}

/**
 * The `event.publish` job: a delivery for each enabled endpoint subscribed to each event (`*` or
 * its type), their delivery jobs, and the consumers' work, in one transaction. Run twice, it adds
 * nothing the first run made (one delivery per endpoint and event).
 */
export function eventPublisher(consumers: readonly EventConsumer[]) {
  return async (
    job: Job & { payload: { eventIds: string[] } | { window: { type: string; from: string; to: string } } },
    deps: Deps,
  ): Promise<void> => {
    const events =
      'window' in job.payload
        ? await findEventsInWindow(deps.db, job.payload.window as { type: string; from: string; to: string })
        : await findEventsByIds(deps.db, job.payload.eventIds);
    const eventIds = events.map((e) => e.id);
    if (events.length === 0) return;
    const endpoints = (await repo.findEndpoints(deps.db, { limit: 10_000, enabledOnly: true })).filter((e) =>
      events.some((ev) => e.eventTypes.includes('*') || e.eventTypes.includes(ev.type)),
    );
    const wanting: EventConsumer[] = [];
    for (const c of consumers) if (await c.wants(deps.db, events)) wanting.push(c);
    // Nobody listens to these events: nothing to write.
    if (endpoints.length === 0 && wanting.length === 0) return;
    await deps.db.transaction().execute(async (trx) => {
      const done = endpoints.length > 0 ? await repo.findDeliveredPairs(trx, eventIds) : new Set();
      const at = deps.now().toISOString();
      const deliveries = [];
      for (const event of events)
        for (const e of endpoints)
          if (
            (e.eventTypes.includes('*') || e.eventTypes.includes(event.type)) &&
            event.type !== 'webhook_endpoint.test' &&
            !done.has(`${e.id}:${event.id}`)
          )
            deliveries.push(newDelivery(e.id, event, at));
      await repo.insertDeliveries(trx, deliveries);
      await enqueue(trx, deps.now(), deliveryJobs(deliveries.map((d) => d.id)));
      for (const c of wanting) await c.consume(trx, deps, events);
    });
    deps.notifyJobs();
  };
}
