import { sql } from 'kysely';
import type { Harness } from './harness.ts';

/**
 * A trigger that makes the database refuse to insert or update rows of `table` where `condition`
 * holds (SQL over `new`, valid in both dialects), with the error "refused by the test": a database
 * failure in the middle of a call. Returns its removal.
 */
export async function refuseWrites(
  h: Harness,
  name: string,
  { table, on, condition }: { table: string; on: 'insert' | 'update'; condition: string },
): Promise<{ drop(): Promise<void> }> {
  const db = h.deps.db;
  if (h.dialect === 'postgres') {
    await sql
      .raw(`create function ${name}() returns trigger language plpgsql as $$
        begin
          if ${condition} then
            raise exception 'refused by the test';
          end if;
          return new;
        end $$`)
      .execute(db);
    await sql
      .raw(`create trigger ${name} before ${on} on ${table} for each row execute function ${name}()`)
      .execute(db);
    return {
      drop: async () => {
        await sql.raw(`drop trigger ${name} on ${table}`).execute(db);
        await sql.raw(`drop function ${name}`).execute(db);
      },
    };
  }
  await sql
    .raw(`create trigger ${name} before ${on} on ${table} when ${condition}
      begin select raise(abort, 'refused by the test'); end`)
    .execute(db);
  return { drop: async () => void (await sql.raw(`drop trigger ${name}`).execute(db)) };
}
