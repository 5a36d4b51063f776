import { CompiledQuery, sql } from 'kysely';
import type { Conn } from './database.ts';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';

/**
 * Inserts many rows of one table. SQLite: multi-row VALUES in batches (statements are local calls).
 * PostgreSQL: one `INSERT … SELECT * FROM unnest($1::type[], …)` per batch, one array parameter per
 * column, instead of a parameter per value: ten thousand rows cost a few statements that parse in
 * microseconds rather than ones carrying tens of thousands of parameters.
 *
 * `columns` maps each column to its PostgreSQL type (used only there); every row must have them all.
 */
export async function insertMany(
  conn: Conn,
  table: keyof Database,
  columns: Record<string, string>,
  rows: readonly Record<string, unknown>[],
  options: { skipExisting?: boolean } = {},
): Promise<void> {
  for (const q of insertManyWrites(conn, table, columns, rows, options)) await conn.executeQuery(q);
}

/** The INSERT … SELECT FROM unnest text of each table and column list (one prepared statement each). */
const unnestSql = new Map<string, string>();

/**
 * The statements `insertMany` runs, for callers that run them with others (db/write-batch.ts).
 * `skipExisting`: a row whose key exists already is left out (ON CONFLICT DO NOTHING), not an error.
 */
export function insertManyWrites(
  conn: Conn,
  table: keyof Database,
  columns: Record<string, string>,
  rows: readonly Record<string, unknown>[],
  options: { skipExisting?: boolean } = {},
): CompiledQuery[] {
  const names = Object.keys(columns);
  const writes: CompiledQuery[] = [];
  if (isPostgres(conn)) {
    const key = `${table}(${names.join(',')})${options.skipExisting ? '!' : ''}`;
    let text = unnestSql.get(key);
    if (text === undefined) {
      const arrays = names.map((n, i) => `$${i + 1}::${columns[n]}[]`);
      text = `insert into "${table}" (${names.map((n) => `"${n}"`).join(', ')}) select * from unnest(${arrays.join(', ')})${
        options.skipExisting ? ' on conflict do nothing' : ''
      }`;
      unnestSql.set(key, text);
    }
    for (let i = 0; i < rows.length; i += 5000) {
      const chunk = rows.slice(i, i + 5000);
      writes.push(
        CompiledQuery.raw(
          text,
          names.map((n) => chunk.map((r) => r[n] ?? null)),
        ),
      );
    }
    return writes;
  }
  // SQLite: Kysely's multi-row VALUES, 500 rows a statement (measured faster than larger ones).
  for (let i = 0; i < rows.length; i += 500) {
    const insert = conn.insertInto(table).values(rows.slice(i, i + 500) as never);
    writes.push((options.skipExisting ? insert.onConflict((oc) => oc.doNothing()) : insert).compile());
  }
  return writes;
}

/** Rows a bulk write must add before its table's planner statistics are refreshed at once. */
export const ANALYZE_AFTER_ROWS = 1000;

/**
 * PostgreSQL: refreshes `table`'s planner statistics after a bulk write added `added` rows (at least
 * ANALYZE_AFTER_ROWS). Autovacuum does it too, but up to a minute later; until then a table that was
 * empty or small is planned as if it still were: the contacts just imported were read by sequential
 * scans, a job's ids at a time, by every delivery job of the bulk send that followed (decision
 * 0021). SQLite plans these lookups by the
 * primary key whatever its statistics say, and keeps none unless asked.
 */
export async function refreshPlannerStats(conn: Conn, table: keyof Database, added: number): Promise<void> {
  if (added < ANALYZE_AFTER_ROWS || !isPostgres(conn)) return;
  await sql`analyze ${sql.table(table)}`.execute(conn);
}
