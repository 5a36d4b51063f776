import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * The portal (SPEC 5, 6, 11): sessions and rate-limit counters in the database (so several
 * processes agree), one-time contact tokens (password reset, email confirmation), and web pages
 * with the web roles that may read them. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);

  // A browser session. `id` is the SHA-256 of the cookie's token, so the table alone cannot be
  // used to sign in. Portal sessions are bound to one website; `data` holds the pending invitation
  // (its id and code version, never the code) and the like.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('website_id', t.id, (c) => c.references('websites.id').onDelete('cascade'))
    .addColumn('contact_id', t.id, (c) => c.references('contacts.id').onDelete('cascade'))
    .addColumn('data', t.json, (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('last_seen_at', t.instant, (c) => c.notNull())
    .addColumn('expires_at', t.instant, (c) => c.notNull()) // the absolute timeout
    .execute();
  await db.schema.createIndex('sessions__contact_id').on('sessions').column('contact_id').execute();
  await db.schema.createIndex('sessions__expires_at').on('sessions').column('expires_at').execute();

  // Fixed-window counters: key = action + scope (an IP address, or "global"); one row per key.
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('window_start', 'bigint', (c) => c.notNull()) // epoch milliseconds
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();

  // One-time tokens sent by email. The token is derived from the id with a server key, so the
  // table holds nothing that works as a token.
  await db.schema
    .createTable('contact_tokens')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('website_id', t.id, (c) => c.notNull().references('websites.id').onDelete('cascade'))
    .addColumn('purpose', 'varchar(20)', (c) =>
      c.notNull().check(sql`purpose in ('reset-password', 'confirm-email')`),
    )
    .addColumn('email', 'varchar(320)') // the address a confirm-email token confirms
    .addColumn('expires_at', t.instant, (c) => c.notNull())
    .addColumn('used_at', t.instant)
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('contact_tokens__contact_id')
    .on('contact_tokens')
    .column('contact_id')
    .execute();

  // A portal page at {base}/p/{path}. Readers: anyone when public; else signed-in contacts, and when
  // web roles are listed, only contacts with one of them.
  await db.schema
    .createTable('web_pages')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('website_id', t.id, (c) => c.notNull().references('websites.id').onDelete('cascade'))
    .addColumn('path', 'varchar(200)', (c) => c.notNull())
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('public', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .addUniqueConstraint('web_pages__website_id_path', ['website_id', 'path'])
    .execute();
  await db.schema
    .createTable('web_page_roles')
    .addColumn('web_page_id', t.id, (c) => c.notNull().references('web_pages.id').onDelete('cascade'))
    .addColumn('web_role_id', t.id, (c) => c.notNull().references('web_roles.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('web_page_roles__pk', ['web_page_id', 'web_role_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['web_page_roles', 'web_pages', 'contact_tokens', 'rate_limits', 'sessions']) {
    await db.schema.dropTable(table).execute();
  }
}
