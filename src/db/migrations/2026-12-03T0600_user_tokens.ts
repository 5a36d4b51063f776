import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * One-time links for back-office users: the invitation to set a first password and the password
 * reset. Only the id is stored; the link carries the id and its HMAC under a key derived from
 * ADMIT_SECRET (users/user.tokens.ts). Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k.schema
    .createTable('user_tokens')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'varchar(20)', (c) =>
      c.notNull().check(sql`purpose in ('invite', 'reset-password')`),
    )
    // The address the link was mailed to (null: handed to the operator by the CLI).
    .addColumn('email', 'varchar(320)')
    .addColumn('expires_at', t.instant, (c) => c.notNull())
    .addColumn('used_at', t.instant)
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .execute();
  await k.schema.createIndex('user_tokens__user_id').on('user_tokens').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  await (db as Kysely<any>).schema.dropTable('user_tokens').execute();
}
