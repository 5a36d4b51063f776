import { PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { Conn } from './database.ts';

/**
 * Where SQLite and PostgreSQL differ in what a query means (not only in how values are stored:
 * that is `values.ts`). Callers ask here instead of testing the adapter themselves.
 */
export const isPostgres = (conn: Conn): boolean => conn.getExecutor().adapter instanceof PostgresAdapter;

/**
 * The instant that decides expiry inside a statement. PostgreSQL: the database's `now()`, so every
 * process agrees whatever its own clock says. SQLite: `at` (the process's clock), since every process
 * on one SQLite file runs on one machine and one clock; ISO-8601 text compares in time order.
 */
export const expiryClock = (conn: Conn, at: string): RawBuilder<string> =>
  isPostgres(conn) ? sql<string>`now()` : sql<string>`${at}`;

/**
 * The start (epoch milliseconds) of the fixed window of `windowMs` that holds now: by the database's
 * clock on PostgreSQL, so every process counts in the same windows; `atMs`'s on SQLite.
 */
export const minuteWindow = (conn: Conn, atMs: number, windowMs: number): RawBuilder<number> =>
  isPostgres(conn)
    ? sql<number>`(floor(extract(epoch from statement_timestamp()) * 1000 / ${windowMs}) * ${windowMs})::bigint`
    : sql<number>`${atMs}`;

/** Node's socket errors: the database's server went away or cannot be reached. */
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * True when `err` says the database cannot answer now, not that the request was wrong: PostgreSQL
 * down, restarting or refusing connections (SQLSTATE classes 08 and 57P, 53300 too many
 * connections, a connection that ended mid-query), or SQLite's file locked beyond the busy timeout.
 * Such errors become 503 SERVICE_UNAVAILABLE, and workers wait and try again.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (SOCKET_ERRORS.has(code)) return true;
  if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-3]$/.test(code) || code === '53300') return true;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
    message,
  );
}

/**
 * Runs `step`; while it fails because the database is unavailable, waits (`firstMs`, doubling up
 * to `capMs`) and runs it again, telling `onWait` each time, until `giveUpMs` have passed (default:
 * never). Any other error, or the last one after giving up, is thrown.
 */
export async function retryWhileUnavailable<T>(
  step: () => Promise<T>,
  o: { firstMs: number; capMs: number; giveUpMs?: number; onWait?: (err: unknown) => void },
): Promise<T> {
  const until = Date.now() + (o.giveUpMs ?? Number.POSITIVE_INFINITY);
  for (let wait = o.firstMs; ; wait = Math.min(o.capMs, wait * 2)) {
    try {
      return await step();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() > until) throw err;
      o.onWait?.(err);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** True when `err` is a unique-constraint violation in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * Runs `work` (typically a whole transaction); a unique-constraint violation, which has already
 * rolled the transaction back, becomes the domain error `conflict()`. Other errors pass through.
 */
export async function uniqueOr<T>(work: () => Promise<T>, conflict: () => Error): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict();
    throw err;
  }
}

/** True when `err` is a foreign-key violation in either dialect: a row others still refer to. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * Runs `work` (typically a transaction that deletes a row); a foreign-key violation, which has
 * already rolled the transaction back, becomes the domain error `inUse()`: the database's own
 * constraints say whether other rows still refer to it, whatever module owns them.
 */
export async function inUseOr<T>(work: () => Promise<T>, inUse: () => Error): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isForeignKeyViolation(err)) throw inUse();
    throw err;
  }
}
