import type { Selectable } from 'kysely';
import { insertMany, insertManyWrites } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import { isPostgres } from '../../db/dialect.ts';
import type { AuditEventsTable } from '../../db/schema.ts';
import { instant, json, parsed } from '../../db/values.ts';

export interface AuditEvent {
  id: string;
  actor: { type: 'user' | 'contact' | 'system'; id: string | null };
  action: string;
  entityType: string;
  entityId: string;
  data: Record<string, unknown>;
  ipAddress: string | null;
  createdAt: string;
}

const toAuditEvent = (r: Selectable<AuditEventsTable>): AuditEvent => ({
  id: r.id,
  actor: { type: r.actor_type, id: r.actor_id },
  action: r.action,
  entityType: r.entity_type,
  entityId: r.entity_id,
  data: parsed(r.data),
  ipAddress: r.ip_address,
  createdAt: instant(r.created_at),
});

const toRow = (e: AuditEvent) => ({
  id: e.id,
  actor_type: e.actor.type,
  actor_id: e.actor.id,
  action: e.action,
  entity_type: e.entityType,
  entity_id: e.entityId,
  data: json(e.data),
  ip_address: e.ipAddress,
  created_at: e.createdAt,
});

export async function insertAuditEvents(conn: Conn, events: readonly AuditEvent[]): Promise<void> {
  await insertMany(conn, 'audit_events', AUDIT_COLUMNS, events.map(toRow));
}

/** The statements `insertAuditEvents` runs, for a caller's write batch (db/write-batch.ts). */
export const auditEventWrites = (conn: Conn, events: readonly AuditEvent[]) =>
  insertManyWrites(conn, 'audit_events', AUDIT_COLUMNS, events.map(toRow));

const AUDIT_COLUMNS = {
  id: 'text',
  actor_type: 'text',
  actor_id: 'text',
  action: 'text',
  entity_type: 'text',
  entity_id: 'text',
  data: 'jsonb',
  ip_address: 'text',
  created_at: 'timestamptz',
};

/** One event by id; `lock` holds its row until the transaction ends (PostgreSQL). */
export async function findAuditEvent(
  conn: Conn,
  id: string,
  options: { lock?: boolean } = {},
): Promise<AuditEvent | undefined> {
  let q = conn.selectFrom('audit_events').selectAll().where('id', '=', id);
  if (options.lock && isPostgres(conn)) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r && toAuditEvent(r);
}

export async function updateAuditEventData(
  conn: Conn,
  id: string,
  data: Record<string, unknown>,
): Promise<void> {
  await conn
    .updateTable('audit_events')
    .set({ data: json(data) })
    .where('id', '=', id)
    .execute();
}

export async function findAuditEvents(
  conn: Conn,
  q: { entityType?: string; entityId?: string; before?: string; limit: number },
): Promise<AuditEvent[]> {
  let query = conn.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.entityType) query = query.where('entity_type', '=', q.entityType);
  if (q.entityId) query = query.where('entity_id', '=', q.entityId);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toAuditEvent);
}
