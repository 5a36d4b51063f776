import { createHmac } from 'node:crypto';
import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, type FieldError, notFound, throwIfInvalid } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { recordAudit } from './audit.service.ts';
import { eventWrites } from './event.repository.ts';
import { SUBSCRIBABLE_EVENT_TYPES } from './event.types.ts';
import { urlProblem } from './webhook.http.ts';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from './webhook.repository.ts';
import * as repo from './webhook.repository.ts';

export type { WebhookAttempt, WebhookDelivery, WebhookEndpoint };

/** The job that POSTs a group of deliveries. */
export const DELIVER_WEBHOOKS_JOB = 'webhook.deliver';
/** Deliveries per delivery job. */
export const DELIVERIES_PER_JOB = 500;
/** How long a rotated-out secret still signs, unless the rotation says otherwise. */
export const DEFAULT_ROTATION_GRACE_S = 24 * 3600;

/**
 * A signing secret: `whsec_` and the base64 of 32 bytes derived from the server key, the owner (an
 * endpoint or a workflow) and its version. Never stored; shown at creation and at rotation only.
 */
export function signingKey(deps: Pick<Deps, 'keys'>, ownerId: string, version: number): Buffer {
  return createHmac('sha256', deps.keys.webhookSecret).update(`${ownerId}:${version}`).digest();
}
export const secretOf = (key: Buffer): string => `whsec_${key.toString('base64')}`;

/** The keys that sign for an endpoint now: its secret, and the previous one during its grace period. */
export function endpointKeys(deps: Pick<Deps, 'keys'>, e: WebhookEndpoint, now: Date): Buffer[] {
  const keys = [signingKey(deps, e.id, e.secretVersion)];
  if (
    e.previousSecretVersion !== null &&
    e.previousSecretUntil &&
    Date.parse(e.previousSecretUntil) > now.getTime()
  )
    keys.push(signingKey(deps, e.id, e.previousSecretVersion));
  return keys;
}

export interface EndpointInput {
  url: string;
  eventTypes: string[];
  enabled?: boolean;
  description?: string | null;
}

function checkEndpoint(deps: Deps, input: Partial<EndpointInput>): void {
  const errors: FieldError[] = [];
  if (input.url !== undefined) {
    const problem = urlProblem(input.url, deps.config.webhookAllowPrivate);
    if (problem) errors.push({ path: '/url', message: `The URL ${problem}.` });
  }
  for (const [i, t] of (input.eventTypes ?? []).entries())
    if (t !== '*' && !(SUBSCRIBABLE_EVENT_TYPES as string[]).includes(t))
      errors.push({
        path: `/eventTypes/${i}`,
        message: `Unknown event type "${t}"; use * or one of ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}.`,
      });
  throwIfInvalid(errors);
}

/** Creates an endpoint; the answer carries its secret, the only time it is shown. */
export async function createEndpoint(
  deps: Deps,
  actor: Actor,
  input: EndpointInput,
): Promise<WebhookEndpoint & { secret: string }> {
  checkEndpoint(deps, input);
  const at = deps.now().toISOString();
  const endpoint: WebhookEndpoint = {
    id: newId(),
    url: input.url,
    description: input.description ?? null,
    eventTypes: [...new Set(input.eventTypes)],
    enabled: input.enabled ?? true,
    secretVersion: 1,
    previousSecretVersion: null,
    previousSecretUntil: null,
    disabledReason: null,
    failingSince: null,
    lastFailedAt: null,
    createdAt: at,
    updatedAt: at,
  };
  await deps.db.transaction().execute(async (trx) => {
    await repo.insertEndpoint(trx, endpoint);
    await recordAudit(
      trx,
      deps,
      actor,
      'webhook_endpoint.created',
      { type: 'webhook_endpoint', id: endpoint.id },
      {
        url: endpoint.url,
        eventTypes: endpoint.eventTypes,
      },
    );
  });
  return { ...endpoint, secret: secretOf(signingKey(deps, endpoint.id, 1)) };
}

export async function listEndpoints(
  deps: Deps,
  q: { limit: number; cursor?: string },
): Promise<Page<WebhookEndpoint>> {
  return toPage(
    await repo.findEndpoints(deps.db, { before: decodeCursor(q.cursor), limit: q.limit + 1 }),
    q.limit,
  );
}

export async function getEndpoint(deps: Deps, id: string, conn: Conn = deps.db): Promise<WebhookEndpoint> {
  const e = await repo.findEndpoint(conn, id, { lock: conn !== deps.db });
  if (!e) throw notFound('webhook endpoint', id);
  return e;
}

/**
 * Edits an endpoint. Enabling one again clears why it was disabled and its failing streak, and
 * sends its pending deliveries (those held while it was disabled by hand) now.
 */
export async function updateEndpoint(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: Partial<EndpointInput>,
): Promise<WebhookEndpoint> {
  checkEndpoint(deps, patch);
  const updated = await deps.db.transaction().execute(async (trx) => {
    const current = await getEndpoint(deps, id, trx);
    const enabling = patch.enabled === true && !current.enabled;
    const next: WebhookEndpoint = {
      ...current,
      url: patch.url ?? current.url,
      description: patch.description === undefined ? current.description : patch.description,
      eventTypes: patch.eventTypes ? [...new Set(patch.eventTypes)] : current.eventTypes,
      enabled: patch.enabled ?? current.enabled,
      disabledReason: enabling ? null : patch.enabled === false ? 'Disabled by hand' : current.disabledReason,
      failingSince: enabling ? null : current.failingSince,
      updatedAt: deps.now().toISOString(),
    };
    await repo.updateEndpoint(trx, next);
    if (enabling) {
      const resumed = await repo.resumePendingDeliveries(trx, id, next.updatedAt);
      await enqueue(trx, deps.now(), deliveryJobs(resumed));
    }
    await recordAudit(
      trx,
      deps,
      actor,
      'webhook_endpoint.updated',
      { type: 'webhook_endpoint', id },
      { changes: patch },
    );
    return next;
  });
  deps.notifyJobs();
  return updated;
}

export async function deleteEndpoint(deps: Deps, actor: Actor, id: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    if (!(await repo.deleteEndpoint(trx, id))) throw notFound('webhook endpoint', id);
    await recordAudit(trx, deps, actor, 'webhook_endpoint.deleted', { type: 'webhook_endpoint', id }, {});
  });
}

/**
 * A new secret for an endpoint; the current one keeps signing for `graceSeconds` (0: stops now), so
 * a receiver can switch without missing a message. Returns the new secret, shown this once.
 */
export async function rotateEndpointSecret(
  deps: Deps,
  actor: Actor,
  id: string,
  graceSeconds = DEFAULT_ROTATION_GRACE_S,
): Promise<WebhookEndpoint & { secret: string }> {
  return deps.db.transaction().execute(async (trx) => {
    const current = await getEndpoint(deps, id, trx);
    const now = deps.now();
    const next: WebhookEndpoint = {
      ...current,
      secretVersion: current.secretVersion + 1,
      previousSecretVersion: graceSeconds > 0 ? current.secretVersion : null,
      previousSecretUntil:
        graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000).toISOString() : null,
      updatedAt: now.toISOString(),
    };
    await repo.updateEndpoint(trx, next);
    await recordAudit(
      trx,
      deps,
      actor,
      'webhook_endpoint.secret_rotated',
      { type: 'webhook_endpoint', id },
      {
        graceSeconds,
      },
    );
    return { ...next, secret: secretOf(signingKey(deps, id, next.secretVersion)) };
  });
}

/** Queues `webhook_endpoint.test` to this endpoint alone (enabled or not), delivered like any event. */
export async function sendTestEvent(deps: Deps, actor: Actor, id: string): Promise<WebhookDelivery> {
  const delivery = await deps.db.transaction().execute(async (trx) => {
    const endpoint = await getEndpoint(deps, id, trx);
    const now = deps.now();
    const at = now.toISOString();
    const eventId = newId();
    for (const q of eventWrites(trx, [
      {
        id: eventId,
        type: 'webhook_endpoint.test',
        data: { endpointId: endpoint.id, message: 'A test event from Admit' },
        createdAt: at,
      },
    ]))
      await trx.executeQuery(q);
    const d = newDelivery(endpoint.id, { id: eventId, type: 'webhook_endpoint.test' }, at);
    await repo.insertDeliveries(trx, [d]);
    await enqueue(trx, now, deliveryJobs([d.id]));
    await recordAudit(trx, deps, actor, 'webhook_endpoint.tested', { type: 'webhook_endpoint', id }, {});
    return d;
  });
  deps.notifyJobs();
  return delivery;
}

export interface DeliveryWithAttempts extends WebhookDelivery {
  attemptLog: WebhookAttempt[];
}

/** An endpoint's deliveries, newest first, each with its attempts. */
export async function listDeliveries(
  deps: Deps,
  endpointId: string,
  q: { limit: number; cursor?: string; status?: repo.DeliveryStatus },
): Promise<Page<DeliveryWithAttempts>> {
  await getEndpoint(deps, endpointId);
  const page = toPage(
    await repo.findDeliveries(deps.db, {
      endpointId,
      status: q.status,
      before: decodeCursor(q.cursor),
      limit: q.limit + 1,
    }),
    q.limit,
  );
  const attempts = await repo.findAttempts(
    deps.db,
    page.items.map((d) => d.id),
  );
  return {
    ...page,
    items: page.items.map((d) => ({ ...d, attemptLog: attempts.filter((a) => a.deliveryId === d.id) })),
  };
}

/** Sends one delivery again now, whatever its status (a replay after the receiver was fixed). */
export async function replayDelivery(deps: Deps, actor: Actor, id: string): Promise<WebhookDelivery> {
  const d = await deps.db.transaction().execute(async (trx) => {
    const current = await repo.findDelivery(trx, id);
    if (!current) throw notFound('webhook delivery', id);
    const endpoint = await getEndpoint(deps, current.endpointId, trx);
    if (!endpoint.enabled)
      throw new AppError('CONFLICT', 'The endpoint is disabled; enable it before replaying its deliveries.');
    const now = deps.now();
    const next = {
      ...current,
      status: 'pending' as const,
      nextAttemptAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    await repo.updateDeliveries(trx, [id], next);
    await enqueue(trx, now, deliveryJobs([id]));
    await recordAudit(
      trx,
      deps,
      actor,
      'webhook_delivery.replayed',
      { type: 'webhook_delivery', id },
      {
        endpointId: endpoint.id,
      },
    );
    return next;
  });
  deps.notifyJobs();
  return d;
}

export function newDelivery(
  endpointId: string,
  event: { id: string; type: string },
  at: string,
): WebhookDelivery {
  return {
    id: newId(),
    endpointId,
    eventId: event.id,
    eventType: event.type,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    lastStatus: null,
    lastError: null,
    createdAt: at,
    updatedAt: at,
  };
}

export function deliveryJobs(ids: readonly string[], runAt?: string) {
  const jobs = [];
  for (let i = 0; i < ids.length; i += DELIVERIES_PER_JOB)
    jobs.push({
      type: DELIVER_WEBHOOKS_JOB,
      payload: { deliveryIds: ids.slice(i, i + DELIVERIES_PER_JOB) },
      ...(runAt ? { runAt } : {}),
    });
  return jobs;
}
