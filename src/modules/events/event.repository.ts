import type { CompiledQuery } from 'kysely';
import { insertManyWrites } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import { instant, json, parsed } from '../../db/values.ts';

/** An integrator event as stored: what happened (`type`), its payload and when. */
export interface StoredEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: string;
}

const EVENT_COLUMNS = { id: 'text', type: 'text', data: 'jsonb', created_at: 'timestamptz' };

/** The statements that insert `events`, for the caller's transaction or write batch. */
export const eventWrites = (conn: Conn, events: readonly StoredEvent[]): CompiledQuery[] =>
  insertManyWrites(
    conn,
    'events',
    EVENT_COLUMNS,
    events.map((e) => ({ id: e.id, type: e.type, data: json(e.data), created_at: e.createdAt })),
  );

export async function findEventsByIds(conn: Conn, ids: readonly string[]): Promise<StoredEvent[]> {
  if (ids.length === 0) return [];
  const rows = await conn.selectFrom('events').selectAll().where('id', 'in', ids).execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    data: parsed(r.data),
    createdAt: instant(r.created_at),
  }));
}

/** The events of `type` created in [from, to). */
export async function findEventsInWindow(
  conn: Conn,
  w: { type: string; from: string; to: string },
): Promise<StoredEvent[]> {
  const rows = await conn
    .selectFrom('events')
    .selectAll()
    .where('created_at', '>=', w.from)
    .where('created_at', '<', w.to)
    .where('type', '=', w.type)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    data: parsed(r.data),
    createdAt: instant(r.created_at),
  }));
}

/** Deletes events older than `before` (their deliveries and attempts go with them). */
export async function deleteEventsBefore(conn: Conn, before: string): Promise<number> {
  const r = await conn.deleteFrom('events').where('created_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
