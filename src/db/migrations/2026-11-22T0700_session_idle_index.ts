import type { Kysely } from 'kysely';

/** Ended sessions are swept by idle time too: index it (the sweep scanned the table). Frozen once landed. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('sessions__last_seen_at').on('sessions').column('last_seen_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sessions__last_seen_at').execute();
}
