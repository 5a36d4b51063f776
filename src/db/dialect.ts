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
