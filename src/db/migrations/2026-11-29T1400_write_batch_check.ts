import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * `admit_expect(actual, expected, what)` on PostgreSQL: raises SQLSTATE AD001 when a statement of a
 * write batch changed another number of rows than its caller requires, so that the batch (one
 * statement, db/write-batch.ts) is undone whole, inside a transaction or not. SQLite runs batches
 * inside a transaction and checks the counts in TypeScript. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!portable(db).pg) return;
  await sql`
    create or replace function admit_expect(actual bigint, expected bigint, what text) returns bigint
    language plpgsql as $$
    begin
      if actual <> expected then
        raise exception using errcode = 'AD001',
          message = what || ' changed ' || actual || ' rows, not ' || expected;
      end if;
      return actual;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (portable(db).pg) await sql`drop function if exists admit_expect(bigint, bigint, text)`.execute(db);
}
