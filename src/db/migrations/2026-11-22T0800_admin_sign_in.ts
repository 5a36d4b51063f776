import type { Kysely } from 'kysely';
import { portable } from './portable.ts';

/**
 * Back-office sign-in (the admin console): a user whose password was generated must choose a new
 * one at the first sign-in, and a session may belong to a user. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  await db.schema
    .alterTable('users')
    .addColumn('must_change_password', t.bool, (c) => c.notNull().defaultTo(t.falseValue))
    .execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('user_id', t.id, (c) => c.references('users.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('sessions__user_id').on('sessions').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sessions__user_id').execute();
  await db.schema.alterTable('sessions').dropColumn('user_id').execute();
  await db.schema.alterTable('users').dropColumn('must_change_password').execute();
}
