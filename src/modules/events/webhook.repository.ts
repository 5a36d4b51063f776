import { type Selectable, sql } from 'kysely';
import { insertMany } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import { isPostgres } from '../../db/dialect.ts';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../../db/schema.ts';
import { bool, flag, instant, json, parsed } from '../../db/values.ts';

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  /** Event types delivered to it; `*` is every type. */
  eventTypes: string[];
  enabled: boolean;
  secretVersion: number;
  previousSecretVersion: number | null;
  previousSecretUntil: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  /** The latest failed attempt (a streak restarts after a long gap without attempts). */
  lastFailedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookAttempt {
  id: string;
  deliveryId: string;
  statusCode: number | null;
  durationMs: number;
  response: string | null;
  error: string | null;
  at: string;
}

const toEndpoint = (r: Selectable<WebhookEndpointsTable>): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description,
  eventTypes: parsed(r.event_types),
  enabled: flag(r.enabled),
  secretVersion: r.secret_version,
  previousSecretVersion: r.previous_secret_version,
  previousSecretUntil: r.previous_secret_until === null ? null : instant(r.previous_secret_until),
  disabledReason: r.disabled_reason,
  failingSince: r.failing_since === null ? null : instant(r.failing_since),
  lastFailedAt: r.last_failed_at === null ? null : instant(r.last_failed_at),
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const endpointRow = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  event_types: json(e.eventTypes),
  enabled: bool(e.enabled),
  secret_version: e.secretVersion,
  previous_secret_version: e.previousSecretVersion,
  previous_secret_until: e.previousSecretUntil,
  disabled_reason: e.disabledReason,
  failing_since: e.failingSince,
  last_failed_at: e.lastFailedAt,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  eventId: r.event_id,
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at === null ? null : instant(r.next_attempt_at),
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const toAttempt = (r: Selectable<WebhookAttemptsTable>): WebhookAttempt => ({
  id: r.id,
  deliveryId: r.delivery_id,
  statusCode: r.status_code,
  durationMs: r.duration_ms,
  response: r.response,
  error: r.error,
  at: instant(r.at),
});

export async function insertEndpoint(conn: Conn, e: WebhookEndpoint): Promise<void> {
  await conn.insertInto('webhook_endpoints').values(endpointRow(e)).execute();
}

export async function updateEndpoint(conn: Conn, e: WebhookEndpoint): Promise<void> {
  const { id: _id, created_at: _c, ...row } = endpointRow(e);
  await conn.updateTable('webhook_endpoints').set(row).where('id', '=', e.id).execute();
}

export async function deleteEndpoint(conn: Conn, id: string): Promise<boolean> {
  const r = await conn.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function findEndpoint(
  conn: Conn,
  id: string,
  o: { lock?: boolean } = {},
): Promise<WebhookEndpoint | undefined> {
  let q = conn.selectFrom('webhook_endpoints').selectAll().where('id', '=', id);
  if (o.lock && isPostgres(conn)) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r && toEndpoint(r);
}

export async function findEndpoints(
  conn: Conn,
  q: { before?: string; limit: number; enabledOnly?: boolean },
): Promise<WebhookEndpoint[]> {
  let query = conn.selectFrom('webhook_endpoints').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  if (q.enabledOnly) query = query.where('enabled', '=', bool(true));
  return (await query.execute()).map(toEndpoint);
}

export async function findEndpointsByIds(conn: Conn, ids: readonly string[]): Promise<WebhookEndpoint[]> {
  if (ids.length === 0) return [];
  return (await conn.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute()).map(
    toEndpoint,
  );
}

/** The endpoints of `eventIds` that already have a delivery of that event. */
export async function findDeliveredPairs(conn: Conn, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await conn
    .selectFrom('webhook_deliveries')
    .select(['endpoint_id', 'event_id'])
    .where('event_id', 'in', eventIds)
    .execute();
  return new Set(rows.map((r) => `${r.endpoint_id}:${r.event_id}`));
}

const DELIVERY_COLUMNS = {
  id: 'text',
  endpoint_id: 'text',
  event_id: 'text',
  event_type: 'text',
  status: 'text',
  attempts: 'int',
  next_attempt_at: 'timestamptz',
  last_status: 'int',
  last_error: 'text',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
};

/** Inserts deliveries; one for an (endpoint, event) that has one already is left out. */
export async function insertDeliveries(conn: Conn, deliveries: readonly WebhookDelivery[]): Promise<void> {
  await insertMany(
    conn,
    'webhook_deliveries',
    DELIVERY_COLUMNS,
    deliveries.map((d) => ({
      id: d.id,
      endpoint_id: d.endpointId,
      event_id: d.eventId,
      event_type: d.eventType,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: d.nextAttemptAt,
      last_status: d.lastStatus,
      last_error: d.lastError,
      created_at: d.createdAt,
      updated_at: d.updatedAt,
    })),
    { skipExisting: true },
  );
}

export async function findDelivery(conn: Conn, id: string): Promise<WebhookDelivery | undefined> {
  const r = await conn.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toDelivery(r);
}

/** The deliveries of `ids` still pending, with the event each carries. */
export async function findPendingDeliveries(
  conn: Conn,
  ids: readonly string[],
): Promise<(WebhookDelivery & { eventData: Record<string, unknown>; eventCreatedAt: string })[]> {
  if (ids.length === 0) return [];
  const rows = await conn
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select(['e.data as event_data', 'e.created_at as event_created_at'])
    .where('d.id', 'in', ids)
    .where('d.status', '=', 'pending')
    .execute();
  return rows.map((r) => ({
    ...toDelivery(r),
    eventData: parsed(r.event_data),
    eventCreatedAt: instant(r.event_created_at),
  }));
}

export async function findDeliveries(
  conn: Conn,
  q: { endpointId: string; before?: string; limit: number; status?: DeliveryStatus },
): Promise<WebhookDelivery[]> {
  let query = conn
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', q.endpointId)
    .orderBy('id', 'desc')
    .limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  if (q.status) query = query.where('status', '=', q.status);
  return (await query.execute()).map(toDelivery);
}

export type DeliveryState = Pick<
  WebhookDelivery,
  'status' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'updatedAt'
>;

/**
 * Sets the state of deliveries; `tried` adds one attempt to each (counted in SQL, so two jobs that
 * tried the same delivery at once both count). One statement for all of `ids`.
 */
export async function updateDeliveries(
  conn: Conn,
  ids: readonly string[],
  d: DeliveryState,
  tried = false,
): Promise<void> {
  if (ids.length === 0) return;
  await conn
    .updateTable('webhook_deliveries')
    .set({
      status: d.status,
      attempts: tried ? sql<number>`attempts + 1` : sql<number>`attempts`,
      next_attempt_at: d.nextAttemptAt,
      last_status: d.lastStatus,
      last_error: d.lastError,
      updated_at: d.updatedAt,
    })
    .where('id', 'in', ids)
    .execute();
}

/** Fails every pending delivery of an endpoint (it was disabled), with `reason`. */
export async function failPendingDeliveries(conn: Conn, endpointId: string, reason: string, at: string) {
  await conn
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', next_attempt_at: null, last_error: reason, updated_at: at })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
}

/** Makes an endpoint's pending deliveries due at `at`; returns their ids. */
export async function resumePendingDeliveries(conn: Conn, endpointId: string, at: string): Promise<string[]> {
  const rows = await conn
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500)
    await conn
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: at, updated_at: at })
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
  return ids;
}

const ATTEMPT_COLUMNS = {
  id: 'text',
  delivery_id: 'text',
  status_code: 'int',
  duration_ms: 'int',
  response: 'text',
  error: 'text',
  at: 'timestamptz',
};

export async function insertAttempts(conn: Conn, attempts: readonly WebhookAttempt[]): Promise<void> {
  await insertMany(
    conn,
    'webhook_attempts',
    ATTEMPT_COLUMNS,
    attempts.map((a) => ({
      id: a.id,
      delivery_id: a.deliveryId,
      status_code: a.statusCode,
      duration_ms: a.durationMs,
      response: a.response,
      error: a.error,
      at: a.at,
    })),
  );
}

export async function findAttempts(conn: Conn, deliveryIds: readonly string[]): Promise<WebhookAttempt[]> {
  if (deliveryIds.length === 0) return [];
  const rows = await conn
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('id')
    .execute();
  return rows.map(toAttempt);
}
