/**
 * The dialect differences of stored values, evened out in one place (see `schema.ts`).
 * Writers use `bool`/`json`; readers use `instant`/`flag`/`parsed`/`count`.
 */

/** A stored boolean: 0/1 is accepted by both SQLite and PostgreSQL boolean columns. */
export const bool = (v: boolean): number => (v ? 1 : 0);

export const json = (v: unknown): string => JSON.stringify(v);

const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * A stored instant as an ISO-8601 UTC string with milliseconds. SQLite keeps that very string, and
 * PostgreSQL's come back as it (pgInstant), so it is checked, not parsed and formatted again.
 */
export function instant(v: string | Date): string;
export function instant(v: string | Date | null): string | null;
export function instant(v: string | Date | null): string | null {
  if (v === null) return null;
  if (typeof v === 'string' && ISO_INSTANT.test(v)) return v;
  return v instanceof Date ? v.toISOString() : new Date(v).toISOString();
}

const PG_UTC = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * PostgreSQL's text for a timestamptz in UTC as an ISO string: `2026-11-30 01:26:24.1+00` becomes
 * `2026-11-30T01:26:24.100Z` (digits past the millisecond are cut, as a Date cuts them). Null for
 * any other text (another offset, a year past 9999, BC, infinity), which node-postgres's own parser
 * reads. It spares node-postgres making a Date of each that `instant` turns back into this string,
 * on the main thread, for every email sent (decision 0021).
 */
export function pgInstant(text: string): string | null {
  const m = PG_UTC.exec(text);
  return m ? `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}Z` : null;
}

export const flag = (v: number | boolean): boolean => v === true || v === 1;

export function parsed<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** COUNT(*) is a bigint (a string) on PostgreSQL and a number on SQLite. */
export const count = (v: string | number | bigint): number => Number(v);

/** Escapes LIKE wildcards so user input matches literally (used with ESCAPE '\'). */
export const likeContains = (s: string): string => `%${s.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
