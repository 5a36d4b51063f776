import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * Identity providers per website (OpenID Connect now; `protocol` leaves room for SAML 2.0), the
 * external logins that link a provider's subject to a contact, and the provider a redemption came
 * through. `external_logins` is made anew: until now nothing wrote to it, and its `provider` was a
 * free string; a login now refers to its provider, which cannot be deleted while a contact is
 * linked to it. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k.schema
    .createTable('identity_providers')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('website_id', t.id, (c) => c.notNull().references('websites.id').onDelete('cascade'))
    .addColumn('protocol', 'varchar(10)', (c) => c.notNull().check(sql`protocol in ('oidc')`))
    .addColumn('display_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('button_label', 'varchar(100)', (c) => c.notNull())
    .addColumn('issuer', 'varchar(2000)', (c) => c.notNull())
    .addColumn('client_id', 'varchar(500)', (c) => c.notNull())
    // Sealed with AES-256-GCM under a key derived from ADMIT_SECRET (src/secret-box.ts).
    .addColumn('client_secret', 'varchar(2000)', (c) => c.notNull())
    .addColumn('scopes', 'varchar(500)', (c) => c.notNull())
    .addColumn('trust_email_verified', t.bool, (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .addUniqueConstraint('identity_providers__website_id_display_name', ['website_id', 'display_name'])
    .execute();

  await k.schema.dropTable('external_logins').execute();
  await k.schema
    .createTable('external_logins')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('provider_id', t.id, (c) => c.notNull().references('identity_providers.id'))
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    // The provider's email when the login was linked (what the contact saw on the profile).
    .addColumn('email', 'varchar(254)')
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('last_used_at', t.instant)
    .addUniqueConstraint('external_logins__provider_id_subject', ['provider_id', 'subject'])
    .execute();
  await k.schema
    .createIndex('external_logins__contact_id')
    .on('external_logins')
    .column('contact_id')
    .execute();

  // A record of history, as `username` is: it keeps the id of a provider deleted since.
  await k.schema.alterTable('invite_redemptions').addColumn('identity_provider_id', t.id).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k.schema.alterTable('invite_redemptions').dropColumn('identity_provider_id').execute();
  await k.schema.dropTable('external_logins').execute();
  await k.schema
    .createTable('external_logins')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(100)', (c) => c.notNull())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addUniqueConstraint('external_logins__provider_subject', ['provider', 'subject'])
    .execute();
  await k.schema
    .createIndex('external_logins__contact_id')
    .on('external_logins')
    .column('contact_id')
    .execute();
  await k.schema.dropTable('identity_providers').execute();
}
