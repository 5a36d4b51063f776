import type { Kysely } from 'kysely';

/** The dashboard funnel reads days by when things happened: index those instants. Frozen once landed. */
const INDEXES = [
  ['invitations__created_at', 'invitations', 'created_at'],
  ['invitations__expires_at', 'invitations', 'expires_at'],
  ['emails__sent_at', 'emails', 'sent_at'],
  ['invite_redemptions__created_at', 'invite_redemptions', 'created_at'],
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, table, column] of INDEXES)
    await db.schema.createIndex(name).on(table).column(column).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [name] of INDEXES) await db.schema.dropIndex(name).execute();
}
