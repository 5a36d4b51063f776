import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * Trust at the portal (SPEC 5, 6): portal access per website, registrations that wait for a
 * confirmed inbox, email changes that wait for confirmation, and Group invitations limited to their
 * invited contacts. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);

  // Where a contact's credentials work: one row per contact and website. Sign-in on a website
  // without a row fails like wrong credentials. `source` says how the access was given, or that an
  // administrator removed it ('revoked': kept so that signing in where anyone may register does not
  // give it back; an administrator or a redemption does).
  await db.schema
    .createTable('website_access')
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('website_id', t.id, (c) => c.notNull().references('websites.id').onDelete('cascade'))
    .addColumn('source', 'varchar(20)', (c) =>
      c.notNull().check(sql`source in ('redemption', 'registration', 'admin', 'revoked')`),
    )
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addPrimaryKeyConstraint('website_access__pk', ['contact_id', 'website_id'])
    .execute();
  await db.schema
    .createIndex('website_access__website_id')
    .on('website_access')
    .column('website_id')
    .execute();
  // Existing contacts keep access where they redeemed an invitation, then where they hold web roles.
  await sql`
    insert into website_access (contact_id, website_id, source, created_at)
    select rc.contact_id, i.website_id, 'redemption', min(rc.redeemed_at)
    from invitation_redeemed_contacts rc join invitations i on i.id = rc.invitation_id
    group by rc.contact_id, i.website_id`.execute(db);
  await sql`
    insert into website_access (contact_id, website_id, source, created_at)
    select cwr.contact_id, wr.website_id, 'admin', min(cwr.created_at)
    from contact_web_roles cwr join web_roles wr on wr.id = cwr.web_role_id
    where not exists (
      select 1 from website_access wa where wa.contact_id = cwr.contact_id and wa.website_id = wr.website_id)
    group by cwr.contact_id, wr.website_id`.execute(db);

  // A primary email change waiting for its confirmation link; the primary email stays until then.
  await db.schema.alterTable('contacts').addColumn('pending_email', 'varchar(320)').execute();

  // A Group invitation that only its invited contacts may redeem.
  await db.schema
    .alterTable('invitations')
    .addColumn('invited_contacts_only', t.bool, (c) => c.notNull().defaultTo(t.falseValue))
    .execute();

  // A registration through an invitation that waits for its email to be confirmed: nothing is
  // granted and no contact changes until the link mailed to `email` is followed. `contact_id` is the
  // invited contact the registrant claims (null: a new contact). The token mailed is derived from
  // the id with a server key, so the table holds nothing that completes a registration.
  await db.schema
    .createTable('pending_registrations')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('website_id', t.id, (c) => c.notNull().references('websites.id').onDelete('cascade'))
    .addColumn('invitation_id', t.id, (c) => c.notNull().references('invitations.id').onDelete('cascade'))
    .addColumn('code_hash', 'varchar(64)', (c) => c.notNull()) // the code it was made with
    .addColumn('contact_id', t.id, (c) => c.references('contacts.id').onDelete('cascade'))
    // That contact's primary email when the registration was held: completing requires it unchanged.
    .addColumn('claimed_email', 'varchar(320)')
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('username', 'varchar(100)')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', t.instant, (c) => c.notNull())
    .addColumn('used_at', t.instant)
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('pending_registrations__invitation_id')
    .on('pending_registrations')
    .column('invitation_id')
    .execute();
  await db.schema
    .createIndex('pending_registrations__contact_id')
    .on('pending_registrations')
    .column('contact_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pending_registrations').execute();
  await db.schema.alterTable('invitations').dropColumn('invited_contacts_only').execute();
  await db.schema.alterTable('contacts').dropColumn('pending_email').execute();
  await db.schema.dropTable('website_access').execute();
}
