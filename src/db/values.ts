/**
 * The dialect differences of stored values, evened out in one place (see `schema.ts`).
 * Writers use `bool`/`json`; readers use `instant`/`flag`/`parsed`/`count`.
 */

/** A stored boolean: 0/1 is accepted by both SQLite and PostgreSQL boolean columns. */
export const bool = (v: boolean): number => (v ? 1 : 0);

export const json = (v: unknown): string => JSON.stringify(v);

export function instant(v: string | Date): string;
export function instant(v: string | Date | null): string | null;
export function instant(v: string | Date | null): string | null {
  if (v === null) return null;
  return v instanceof Date ? v.toISOString() : new Date(v).toISOString();
}

export const flag = (v: number | boolean): boolean => v === true || v === 1;

export function parsed<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** COUNT(*) is a bigint (a string) on PostgreSQL and a number on SQLite. */
export const count = (v: string | number | bigint): number => Number(v);

/** Escapes LIKE wildcards so user input matches literally (used with ESCAPE '\'). */
export const likeContains = (s: string): string => `%${s.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
