import { type Kysely, sql } from 'kysely';

/**
 * Sessions by contact and by user: indexes over the signed-in sessions only. Most sessions are a
 * visitor's (a landing remembers a pending invitation before anyone signs in), and every one of
 * them wrote an entry into both indexes for nothing; now a visitor's session is written into the
 * table, its key and the two expiry indexes only. Lookups by contact or user (`= id`) still use
 * them. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of ['contact_id', 'user_id']) {
    await db.schema.dropIndex(`sessions__${column}`).execute();
    await db.schema
      .createIndex(`sessions__${column}`)
      .on('sessions')
      .column(column)
      .where(sql.ref(column), 'is not', null)
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['contact_id', 'user_id']) {
    await db.schema.dropIndex(`sessions__${column}`).execute();
    await db.schema.createIndex(`sessions__${column}`).on('sessions').column(column).execute();
  }
}
