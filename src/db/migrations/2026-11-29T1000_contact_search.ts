import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * Contact search (`?search=`, a substring of the name or the primary email) on PostgreSQL: a
 * trigram index over the very expression the search reads, so it stays an index lookup at 100,000
 * contacts and more. pg_trgm ships with PostgreSQL and is a trusted extension (a database owner may
 * create it); where it cannot be created the search still works, reading every row. SQLite reads
 * every row (about 50 ms per 100,000 contacts here). Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!portable(db).pg) return;
  const { rows } = await sql<{ ok: boolean }>`
    select exists (select 1 from pg_available_extensions where name = 'pg_trgm')
      and (exists (select 1 from pg_extension where extname = 'pg_trgm')
           or has_database_privilege(current_database(), 'CREATE')) as ok`.execute(db);
  if (!rows[0]?.ok) return;
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create index contacts__search on contacts using gin (
    (lower(first_name || ' ' || last_name || ' ' || coalesce(email_normalized, ''))) gin_trgm_ops)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (portable(db).pg) await sql`drop index if exists contacts__search`.execute(db);
}
