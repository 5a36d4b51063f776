import { CompiledQuery } from 'kysely';
import type { Conn } from './database.ts';
import { isPostgres } from './dialect.ts';

/**
 * A statement of a batch, or a statement and the number of rows it must change: unless exactly that
 * many change, the batch is undone whole and `runWrites` throws WriteExpectationFailed.
 */
export type Write = CompiledQuery | { query: CompiledQuery; expect: number };

const parts = (w: Write) => ('expect' in w ? w : { query: w, expect: undefined });

/** A statement of a batch did not change the rows its caller required; nothing of the batch remains. */
export class WriteExpectationFailed extends Error {
  constructor(readonly index: number) {
    super(`statement ${index} of the write batch did not change the expected rows`);
  }
}

/**
 * Runs several INSERT/UPDATE/DELETE statements, all or nothing, and returns how many rows each one
 * changed, in order.
 *
 * SQLite runs them one after another inside a transaction (the caller's, or one of its own): each is
 * a local call. PostgreSQL runs them as ONE statement, each a data-modifying CTE (`with w0 as (…
 * returning 1), w1 as (…) select …`): one round trip, atomic by itself, instead of one per statement
 * plus BEGIN and COMMIT; a count short of its `expect` raises inside the statement (`admit_expect`,
 * migration 2026-11-29T1400), which undoes it. Decision 0010.
 *
 * The rules of a data-modifying CTE apply, so callers keep to them on both databases: no statement
 * reads another's changes (each sees the database as it was before the batch), no two change the same
 * row, and none has a RETURNING clause of its own.
 */
export async function runWrites(conn: Conn, writes: readonly Write[]): Promise<number[]> {
  if (writes.length === 0) return [];
  if (isPostgres(conn)) return runAsOneStatement(conn, writes);
  const run = async (trx: Conn) => {
    const counts: number[] = [];
    for (const [i, w] of writes.entries()) {
      const { query, expect } = parts(w);
      const n = Number((await trx.executeQuery(query)).numAffectedRows ?? 0n);
      if (expect !== undefined && n !== expect) throw new WriteExpectationFailed(i);
      counts.push(n);
    }
    return counts;
  };
  return conn.isTransaction ? run(conn) : conn.transaction().execute(run);
}

async function runAsOneStatement(conn: Conn, writes: readonly Write[]): Promise<number[]> {
  const parameters: unknown[] = [];
  const ctes = writes.map((w, i) => {
    const { query } = parts(w);
    if (/\breturning\b/i.test(query.sql)) throw new Error('runWrites: a statement has its own RETURNING');
    const body = renumberParameters(query.sql, parameters.length);
    parameters.push(...query.parameters);
    return `w${i} as (${body} returning 1)`;
  });
  const counts = writes.map((w, i) =>
    parts(w).expect === undefined
      ? `(select count(*) from w${i})::int as n${i}`
      : `admit_expect((select count(*) from w${i}), ${Math.trunc(parts(w).expect as number)}, 'w${i}')::int as n${i}`,
  );
  try {
    const { rows } = await conn.executeQuery(
      CompiledQuery.raw(`with ${ctes.join(', ')} select ${counts.join(', ')}`, parameters),
    );
    const row = (rows[0] ?? {}) as Record<string, number>;
    return writes.map((_, i) => Number(row[`n${i}`] ?? 0));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'AD001') throw new WriteExpectationFailed(Number(/^w(\d+)/.exec(e.message ?? '')?.[1]));
    throw err;
  }
}

/**
 * PostgreSQL placeholders `$1…$n` shifted by `offset`, outside quoted strings and identifiers
 * (the only places a `$` followed by digits can appear in the SQL Kysely compiles).
 */
export function renumberParameters(sqlText: string, offset: number): string {
  if (offset === 0) return sqlText;
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < sqlText.length; i++) {
    const c = sqlText[i] as string;
    if (quote) {
      out += c;
      if (c === quote) quote = null; // a doubled quote closes and reopens: same result
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c === '$') {
      const m = /^\d+/.exec(sqlText.slice(i + 1, i + 12));
      if (m) {
        out += `$${Number(m[0]) + offset}`;
        i += m[0].length;
        continue;
      }
    }
    out += c;
  }
  return out;
}
