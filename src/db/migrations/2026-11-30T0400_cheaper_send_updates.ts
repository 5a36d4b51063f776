import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * Fewer index entries written per email sent (decision 0016). Frozen once landed.
 *
 * - PostgreSQL: invitations are written with half of each page left free (`fillfactor = 50`). An
 *   invitation is updated after it is written (marked sent when its first email is accepted,
 *   counted at each redemption), and none of those columns is indexed, so the new version can stay
 *   on the same page with no new index entries (a heap-only update), if the page has room. Packed
 *   full, as bulk inserts leave them, every such update wrote an entry into each of the table's five
 *   indexes: 74 ms for 3,000 invitations, against 15 ms with the room. Pages written before this
 *   migration keep their packing. SQLite has no such thing.
 * - Both: `emails__sent_at` (the dashboard's days of sending) covers the sent emails only. A pending
 *   email, and one marked sending, no longer writes an entry into it; the dashboard's range
 *   conditions on `sent_at` imply `is not null`, so both planners still use it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (portable(db).pg) await sql`alter table invitations set (fillfactor = 50)`.execute(db);
  await db.schema.dropIndex('emails__sent_at').execute();
  await db.schema
    .createIndex('emails__sent_at')
    .on('emails')
    .column('sent_at')
    .where(sql.ref('sent_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (portable(db).pg) await sql`alter table invitations reset (fillfactor)`.execute(db);
  await db.schema.dropIndex('emails__sent_at').execute();
  await db.schema.createIndex('emails__sent_at').on('emails').column('sent_at').execute();
}
