import { CompiledQuery } from 'kysely';
import { insertManyWrites } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import { isPostgres } from '../../db/dialect.ts';
import { instant, json, parsed } from '../../db/values.ts';

/** An integrator event as stored: what happened (`type`), its payload and when. */
export interface StoredEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: string;
}

const EVENT_COLUMNS = { id: 'text', type: 'text', data: 'jsonb', created_at: 'timestamptz' };

/**
 * The statements that insert `events`, for the caller's transaction or write batch; with
 * `skipExisting`, an event whose id exists is left as it is. PostgreSQL: one statement whose one
 * parameter is the rows as JSON, rather than an array per column, whose payloads node-postgres would
 * escape character by character.
 */
export function eventWrites(
  conn: Conn,
  events: readonly StoredEvent[],
  options: { skipExisting?: boolean } = {},
): CompiledQuery[] {
  if (events.length === 0) return [];
  if (!isPostgres(conn))
    return insertManyWrites(
      conn,
      'events',
      EVENT_COLUMNS,
      events.map((e) => ({ id: e.id, type: e.type, data: json(e.data), created_at: e.createdAt })),
      options,
    );
  return [CompiledQuery.raw(options.skipExisting ? INSERT_PG_SKIP : INSERT_PG, [JSON.stringify(events)])];
}

const INSERT_PG = `insert into events (id, type, data, created_at)
  select e.id, e.type, e.data, e."createdAt" from jsonb_to_recordset($1::jsonb)
    as e(id text, type text, data jsonb, "createdAt" timestamptz)`;
const INSERT_PG_SKIP = `${INSERT_PG} on conflict do nothing`;

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

/**
 * Deletes events made before `before` that no delivery still waits to send, `batch` at a time;
 * their deliveries and attempts go with them. Returns how many.
 */
export async function deleteEventsBefore(conn: Conn, before: string, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const old = conn
      .selectFrom('events')
      .select('id')
      .where('created_at', '<', before)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('webhook_deliveries')
              .select('webhook_deliveries.id')
              .whereRef('webhook_deliveries.event_id', '=', 'events.id')
              .where('webhook_deliveries.status', '=', 'pending'),
          ),
        ),
      )
      .limit(batch);
    const n = Number(
      (await conn.deleteFrom('events').where('id', 'in', old).executeTakeFirst()).numDeletedRows,
    );
    total += n;
    if (n < batch) return total;
  }
}
