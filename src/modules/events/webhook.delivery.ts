import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import type { Job } from '../../jobs/worker.ts';
import { recordAudit } from './audit.service.ts';
import { type PostOutcome, RESPONSE_KEPT_BYTES } from './webhook.http.ts';
import type { WebhookAttempt, WebhookEndpoint } from './webhook.repository.ts';
import * as repo from './webhook.repository.ts';
import { deliveryJobs, endpointKeys } from './webhook.service.ts';

/**
 * The `webhook.deliver` job: POSTs a group of deliveries, each its event's Standard Webhooks message
 * (`{type, timestamp, data}`, `webhook-id` = the event id, so a receiver can drop a message it has
 * seen), and records every attempt. A delivery that fails is tried again on the schedule of
 * RETRY_DELAYS_MS (by a later job), and fails for good after the last. An endpoint that has failed
 * without a success for DISABLE_AFTER_MS (a streak, broken by a success or by STREAK_GAP_MS without
 * an attempt) is disabled, its pending deliveries failed, and the
 * administrators told by email (`onEndpointDisabled`). The deliveries of an endpoint disabled by
 * hand stay pending, untried, until it is enabled again (webhook.service.ts, updateEndpoint).
 *
 * A worker that dies after a POST and before its record sends that message again: at least once,
 * with the same `webhook-id`.
 */

/** After the first attempt (at once) fails: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
export const DISABLE_AFTER_MS = 5 * 24 * 3600 * 1000;
/**
 * A failure this long after the endpoint's previous one starts a new streak: longer than the
 * longest wait between retries, so a streak is broken only by a time nothing was tried.
 */
export const STREAK_GAP_MS = 12 * 3600 * 1000;
export const REQUEST_TIMEOUT_MS = 10_000;
/** POSTs in flight at once within one job. */
const IN_FLIGHT = 32;

/** Told, in the transaction that disables it, that an endpoint was disabled. */
export type EndpointDisabled = (trx: Conn, deps: Deps, endpoint: WebhookEndpoint) => Promise<void>;

export function webhookDelivery(
  options: { retryDelaysMs?: readonly number[]; onEndpointDisabled?: EndpointDisabled } = {},
) {
  const delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  return async (job: Job & { payload: { deliveryIds: string[] } }, deps: Deps): Promise<void> => {
    const now = deps.now();
    const due = (await repo.findPendingDeliveries(deps.db, job.payload.deliveryIds)).filter(
      (d) => d.nextAttemptAt === null || Date.parse(d.nextAttemptAt) <= now.getTime() + 1000,
    );
    if (due.length === 0) return;
    const endpoints = new Map(
      (await repo.findEndpointsByIds(deps.db, [...new Set(due.map((d) => d.endpointId))])).map((e) => [
        e.id,
        e,
      ]),
    );

    const outcomes = new Map<string, PostOutcome>();
    // Endpoints that gave no answer at all (refused, unreachable, timed out) in this job: the rest
    // of their deliveries are not tried now, but counted as failed attempts of the same kind, so a
    // dead host costs one wave of timeouts, not one per delivery, and healthy endpoints go on.
    const unanswered = new Map<string, string>();
    let next = 0;
    const lane = async () => {
      while (next < due.length) {
        const d = due[next++] as (typeof due)[number];
        const endpoint = endpoints.get(d.endpointId);
        if (!endpoint?.enabled && d.eventType !== 'webhook_endpoint.test') continue;
        if (!endpoint) continue;
        const silent = unanswered.get(endpoint.id);
        if (silent !== undefined) {
          outcomes.set(d.id, {
            status: null,
            ok: false,
            durationMs: 0,
            response: null,
            error: `Not sent: an earlier request of the same batch got no answer (${silent})`,
          });
          continue;
        }
        const body = JSON.stringify({ type: d.eventType, timestamp: d.eventCreatedAt, data: d.eventData });
        const outcome = await deps.webhooks.post({
          url: endpoint.url,
          id: d.eventId,
          body,
          keys: endpointKeys(deps, endpoint, deps.now()),
          timeoutMs: REQUEST_TIMEOUT_MS,
          now: deps.now(),
        });
        outcomes.set(d.id, outcome);
        if (outcome.status === null && !unanswered.has(endpoint.id))
          unanswered.set(endpoint.id, outcome.error ?? 'no answer');
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, due.length) }, lane));

    const at = deps.now();
    const atIso = at.toISOString();
    await deps.db.transaction().execute(async (trx) => {
      // Endpoints first, then their deliveries: the order every change of an endpoint takes (a
      // replay, an edit, a deletion), so two of them never wait on each other.
      const locked = new Map<string, WebhookEndpoint>();
      for (const id of [...new Set(due.map((d) => d.endpointId))].sort()) {
        const e = await repo.findEndpoint(trx, id, { lock: true });
        if (e) locked.set(id, e);
      }
      const attempts: WebhookAttempt[] = [];
      const retries = new Map<number, string[]>();
      const succeededAt = new Set<string>();
      const failedAt = new Set<string>();
      // Deliveries that end in the same state are recorded by one statement.
      const states = new Map<string, { state: repo.DeliveryState; tried: boolean; ids: string[] }>();
      const record = (id: string, state: repo.DeliveryState, tried: boolean) => {
        const key = JSON.stringify([state, tried]);
        const group = states.get(key);
        if (group) group.ids.push(id);
        else states.set(key, { state, tried, ids: [id] });
      };
      for (const d of due) {
        const outcome = outcomes.get(d.id);
        // Not tried while the endpoint was disabled: it waits, and enabling the endpoint resumes it
        // (also when it was enabled meanwhile; the job enabling queued sends it).
        if (!outcome && locked.has(d.endpointId)) continue;
        if (!outcome) {
          const lastError = 'The endpoint is gone.';
          record(d.id, { ...d, status: 'failed', nextAttemptAt: null, lastError, updatedAt: atIso }, false);
          continue;
        }
        attempts.push({
          id: newId(),
          deliveryId: d.id,
          statusCode: outcome.status,
          durationMs: outcome.durationMs,
          response: outcome.response?.slice(0, RESPONSE_KEPT_BYTES) ?? null,
          error: outcome.error,
          at: atIso,
        });
        const tried = d.attempts + 1;
        const delay = delays[tried - 1];
        const status = outcome.ok ? 'succeeded' : delay === undefined ? 'failed' : 'pending';
        const nextAttemptAt =
          status === 'pending' ? new Date(at.getTime() + (delay as number)).toISOString() : null;
        record(
          d.id,
          { status, nextAttemptAt, lastStatus: outcome.status, lastError: outcome.error, updatedAt: atIso },
          true,
        );
        if (nextAttemptAt) retries.set(delay as number, [...(retries.get(delay as number) ?? []), d.id]);
        (outcome.ok ? succeededAt : failedAt).add(d.endpointId);
      }
      for (const { state, tried, ids } of states.values())
        await repo.updateDeliveries(trx, ids, state, tried);
      await repo.insertAttempts(trx, attempts);
      for (const [delay, ids] of retries)
        await enqueue(trx, at, deliveryJobs(ids, new Date(at.getTime() + delay).toISOString()));
      for (const id of new Set([...succeededAt, ...failedAt])) {
        const endpoint = locked.get(id);
        if (!endpoint) continue;
        if (succeededAt.has(id)) {
          if (endpoint.failingSince)
            await repo.updateEndpoint(trx, { ...endpoint, failingSince: null, updatedAt: atIso });
          continue;
        }
        // A streak starts at the first failure after a success, or after STREAK_GAP_MS without one.
        const restart =
          !endpoint.failingSince ||
          !endpoint.lastFailedAt ||
          at.getTime() - Date.parse(endpoint.lastFailedAt) > STREAK_GAP_MS;
        const failing = {
          ...endpoint,
          failingSince: restart ? atIso : endpoint.failingSince,
          lastFailedAt: atIso,
        };
        await repo.updateEndpoint(trx, { ...failing, updatedAt: atIso });
        if (!endpoint.enabled || at.getTime() - Date.parse(failing.failingSince as string) < DISABLE_AFTER_MS)
          continue;
        const reason = `Every delivery failed since ${failing.failingSince}; the last: ${
          outcomes.get(due.find((d) => d.endpointId === id)?.id ?? '')?.error ?? 'no answer'
        }`;
        const disabled = { ...failing, enabled: false, disabledReason: reason, updatedAt: atIso };
        await repo.updateEndpoint(trx, disabled);
        await repo.failPendingDeliveries(
          trx,
          id,
          'The endpoint was disabled after failing for five days.',
          atIso,
        );
        await recordAudit(
          trx,
          deps,
          { type: 'system', id: null, ip: null },
          'webhook_endpoint.disabled',
          { type: 'webhook_endpoint', id },
          { reason },
        );
        await options.onEndpointDisabled?.(trx, deps, disabled);
      }
    });
  };
}
