import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Distinct statements named per process; beyond this many, new texts run unnamed (IN lists vary). */
const MAX_NAMED = 2_000;
const NAMEABLE = /^\s*(select|insert|update|delete|with)\b/i;
/**
 * A comment that keeps a statement unnamed, so PostgreSQL plans it for each call's values: for the
 * statements whose best plan depends on a parameter. A prepared statement switches to a generic plan
 * after five calls; for the contact search (`like $1 … order by id desc limit 25`) that plan walks the
 * primary key backwards through every row when nothing matches, where the trigram index answers at
 * once (decision 0021).
 */
export const PLAN_EACH_CALL = '/* planned each call */';
/** PostgreSQL's answer when a prepared `select *` meets a table whose columns changed (a migration). */
const STALE_PLAN = '0A000';

/**
 * node-postgres sends every Kysely statement unnamed, so PostgreSQL parses and plans it on every
 * call; on the portal's small statements that was most of the server's CPU (decision 0009). Named,
 * a statement is
 * parsed once per connection and its plan cached. Names are given per SQL text; a statement whose
 * cached plan went stale after a migration is run again under a new name (inside a transaction the
 * transaction fails that once, as PostgreSQL aborts it). Behind a pooler in transaction mode that
 * cannot keep prepared statements, ADMIT_PG_PREPARED_STATEMENTS=false turns this off.
 */
export function withPreparedStatements(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  let given = 0;
  const nameOf = (text: string, fresh = false): string | undefined => {
    let name = fresh ? undefined : names.get(text);
    if (
      name === undefined &&
      (fresh || names.size < MAX_NAMED) &&
      NAMEABLE.test(text) &&
      !text.includes(PLAN_EACH_CALL)
    ) {
      name = `admit_${++given}`;
      names.set(text, name);
    }
    return name;
  };
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let wrapped = clients.get(client);
    if (!wrapped) {
      const run = (text: string, values: unknown[], name: string | undefined) =>
        name ? client.query({ name, text, values }) : client.query(text, values);
      wrapped = {
        // biome-ignore lint/suspicious/noExplicitAny: the two overloads of Kysely's PostgresPoolClient
        query: ((text: any, values?: unknown[]) => {
          if (typeof text !== 'string') return client.query(text);
          return run(text, values ?? [], nameOf(text)).catch((err: { code?: string }) => {
            if (err?.code !== STALE_PLAN || !names.has(text)) throw err;
            return run(text, values ?? [], nameOf(text, true));
          });
        }) as PostgresPoolClient['query'],
        release: () => client.release(),
      };
      clients.set(client, wrapped);
    }
    return wrapped;
  };
  return {
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
  };
}
