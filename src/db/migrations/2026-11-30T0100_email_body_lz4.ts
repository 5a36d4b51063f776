import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * PostgreSQL compresses an email's stored HTML and text with lz4 where the server has it (built
 * `--with-lz4`, as Debian's and the official images are), not the default pglz: a sent email's HTML,
 * ~2 KB, is compressed as it is recorded, and pglz cost ~7 µs more per row for the same size
 * (decision 0015). Only values written afterwards change. SQLite does not compress. Frozen once landed.
 */
const COLUMNS = ['html', 'text'] as const;

async function hasLz4(db: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql<{ lz4: boolean }>`
    select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`.execute(
    db,
  );
  return rows[0]?.lz4 === true;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!portable(db).pg || !(await hasLz4(db))) return;
  for (const c of COLUMNS)
    await sql`alter table emails alter column ${sql.ref(c)} set compression lz4`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!portable(db).pg) return;
  for (const c of COLUMNS)
    await sql`alter table emails alter column ${sql.ref(c)} set compression default`.execute(db);
}
