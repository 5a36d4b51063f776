import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import type { Job } from '../../jobs/worker.ts';
import { findEventsByIds, type StoredEvent } from './event.repository.ts';
import * as repo from './webhook.repository.ts';
import { deliveryJobs, newDelivery } from './webhook.service.ts';

/**
 * Whoever else an event goes to (the workflows it starts), told inside the publication's
 * transaction; it must be idempotent, because a publication that fails runs again.
 */
export type EventConsumer = (trx: Conn, deps: Deps, events: readonly StoredEvent[]) => Promise<void>;

/**
 * The `event.publish` job: a delivery for each enabled endpoint subscribed to each event (`*` or
 * its type), their delivery jobs, and the consumers' work, in one transaction. Run twice, it adds
 * nothing the first run made (one delivery per endpoint and event).
 */
export function eventPublisher(consumers: readonly EventConsumer[]) {
  return async (job: Job & { payload: { eventIds: string[] } }, deps: Deps): Promise<void> => {
    const events = await findEventsByIds(deps.db, job.payload.eventIds);
    if (events.length === 0) return;
    const endpoints = await repo.findEndpoints(deps.db, { limit: 10_000, enabledOnly: true });
    await deps.db.transaction().execute(async (trx) => {
      const done =
        endpoints.length > 0 ? await repo.findDeliveredPairs(trx, job.payload.eventIds) : new Set();
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
      for (const consume of consumers) await consume(trx, deps, events);
    });
    deps.notifyJobs();
  };
}
