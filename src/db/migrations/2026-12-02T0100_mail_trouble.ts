import type { Kysely } from 'kysely';
import { portable } from './portable.ts';

/**
 * The mail server's trouble, beside the credentials pause: `unreachable` (no conversation) or
 * `deferring` (421), since when, its last reply, and when the next probe may try it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  await db.schema.alterTable('mail_state').addColumn('trouble', 'varchar(20)').execute();
  await db.schema.alterTable('mail_state').addColumn('trouble_since', t.instant).execute();
  await db.schema.alterTable('mail_state').addColumn('trouble_reply', 'varchar(1000)').execute();
  await db.schema.alterTable('mail_state').addColumn('next_probe_at', t.instant).execute();
  await db.schema.alterTable('mail_state').addColumn('probe_delay_ms', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const c of ['probe_delay_ms', 'next_probe_at', 'trouble_reply', 'trouble_since', 'trouble'])
    await db.schema.alterTable('mail_state').dropColumn(c).execute();
}
