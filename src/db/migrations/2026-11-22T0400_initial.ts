import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * The first schema of Admit. Frozen: later changes are new migrations.
 * Every id is an application-generated UUIDv7; every `*_at` is a UTC instant.
 * Indexes and constraints are named `table__columns` (or `table__purpose`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);

  // A portal site. `settings` holds the website settings of SPEC 6 (JSON; defaults merged on read).
  await db.schema
    .createTable('websites')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('slug', 'varchar(63)', (c) => c.notNull().unique()) // url-safe, unique across websites
    .addColumn('base_url', 'varchar(2000)') // null: {PUBLIC_URL}/portal/{slug}
    .addColumn('settings', t.json, (c) => c.notNull())
    .addColumn('existing_user_path', 'varchar(2000)') // where a registrant who already has an account goes
    .addColumn('redirect_path', 'varchar(2000)') // where a successful redemption goes
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();

  // A role a contact can hold on one website; grants access to web pages.
  await db.schema
    .createTable('web_roles')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('website_id', t.id, (c) => c.notNull().references('websites.id').onDelete('cascade'))
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'varchar(2000)')
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .addUniqueConstraint('web_roles__website_id_name', ['website_id', 'name'])
    .execute();

  // A company; a contact's parent account.
  await db.schema
    .createTable('accounts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();

  // A person. `email` is the primary email (Power Pages' emailaddress1), the only one invitations use.
  await db.schema
    .createTable('contacts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('first_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('last_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('email', 'varchar(254)')
    .addColumn('email_normalized', 'varchar(254)') // lower(email), for matching
    .addColumn('email2', 'varchar(254)')
    .addColumn('email3', 'varchar(254)')
    .addColumn('parent_account_id', t.id, (c) => c.references('accounts.id'))
    .addColumn('username', 'varchar(100)')
    .addColumn('username_normalized', 'varchar(100)') // lower(username); unique when set
    .addColumn('password_hash', 'varchar(255)') // argon2id; never leaves the server
    .addColumn('login_enabled', t.bool, (c) => c.notNull().defaultTo(t.falseValue))
    .addColumn('email_confirmed', t.bool, (c) => c.notNull().defaultTo(t.falseValue))
    .addColumn('last_sign_in_at', t.instant)
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('contacts__username')
    .unique()
    .on('contacts')
    .column('username_normalized')
    .execute();
  await db.schema.createIndex('contacts__email').on('contacts').column('email_normalized').execute();
  await db.schema
    .createIndex('contacts__parent_account_id')
    .on('contacts')
    .column('parent_account_id')
    .execute();

  // The web roles a contact holds.
  await db.schema
    .createTable('contact_web_roles')
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('web_role_id', t.id, (c) => c.notNull().references('web_roles.id').onDelete('cascade'))
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_web_roles__pk', ['contact_id', 'web_role_id'])
    .execute();
  await db.schema
    .createIndex('contact_web_roles__web_role_id')
    .on('contact_web_roles')
    .column('web_role_id')
    .execute();

  // An external identity (OpenID Connect, SAML) linked to a contact: one subject per provider.
  await db.schema
    .createTable('external_logins')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(100)', (c) => c.notNull())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addUniqueConstraint('external_logins__provider_subject', ['provider', 'subject'])
    .execute();
  await db.schema
    .createIndex('external_logins__contact_id')
    .on('external_logins')
    .column('contact_id')
    .execute();

  // A back-office user: owns invitations and API keys.
  await db.schema
    .createTable('users')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('email', 'varchar(254)', (c) => c.notNull())
    .addColumn('email_normalized', 'varchar(254)', (c) => c.notNull().unique())
    .addColumn('role', 'varchar(20)', (c) => c.notNull().check(sql`role in ('admin', 'operator')`))
    .addColumn('disabled', t.bool, (c) => c.notNull().defaultTo(t.falseValue))
    .addColumn('password_hash', 'varchar(255)') // argon2id; null until the user sets one
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();

  // An API key of a user. Only a hash of the secret is kept; `prefix` identifies it in lists.
  await db.schema
    .createTable('api_keys')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('prefix', 'varchar(16)', (c) => c.notNull())
    .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull().unique()) // hex HMAC-SHA-256 of the whole key
    .addColumn('last_used_at', t.instant)
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .execute();

  // A named, versioned list of steps run on a contact (SPEC 7); the send workflow is built in.
  await db.schema
    .createTable('workflows')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('key', 'varchar(100)', (c) => c.unique()) // built-ins only, e.g. send-invitation
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('active', t.bool, (c) => c.notNull().defaultTo(t.trueValue))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('steps', t.json, (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();

  // An invitation (SPEC 3). `code_hash` is HMAC-SHA-256(server key, normalised code): never the code.
  // `status` is derived on read from state, counts and expires_at; nothing sweeps it.
  await db.schema
    .createTable('invitations')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('type', 'varchar(10)', (c) => c.notNull().check(sql`type in ('single', 'group')`))
    .addColumn('website_id', t.id, (c) => c.notNull().references('websites.id'))
    .addColumn('owner_id', t.id, (c) => c.notNull().references('users.id'))
    .addColumn('inviter_contact_id', t.id, (c) => c.references('contacts.id'))
    .addColumn('expires_at', t.instant) // null: never expires (only where the website allows it)
    .addColumn('assign_to_account_id', t.id, (c) => c.references('accounts.id'))
    .addColumn('redemption_workflow_id', t.id, (c) => c.references('workflows.id'))
    .addColumn('max_redemptions', 'integer', (c) => c.notNull().check(sql`max_redemptions >= 1`))
    .addColumn('redemption_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'varchar(10)', (c) => c.notNull().check(sql`state in ('active', 'inactive')`))
    .addColumn('status_reason', 'varchar(10)', (c) =>
      c.notNull().check(sql`status_reason in ('new', 'sent', 'redeemed', 'inactive')`),
    )
    .addColumn('code_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('code_version', 'integer', (c) => c.notNull().defaultTo(1)) // bumped by regenerate-code
    .addColumn('last_sent_at', t.instant) // last time an email of this invitation was accepted
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .addUniqueConstraint('invitations__code_hash', ['code_hash'])
    .addCheckConstraint(
      'invitations__redemption_count',
      sql`redemption_count >= 0 and redemption_count <= max_redemptions`,
    )
    .addCheckConstraint('invitations__single_max', sql`type = 'group' or max_redemptions = 1`)
    .execute();
  await db.schema.createIndex('invitations__website_id').on('invitations').column('website_id').execute();

  // The contacts an invitation was sent to (Invited Contact(s)).
  await db.schema
    .createTable('invitation_invited_contacts')
    .addColumn('invitation_id', t.id, (c) => c.notNull().references('invitations.id').onDelete('cascade'))
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id'))
    .addPrimaryKeyConstraint('invitation_invited_contacts__pk', ['invitation_id', 'contact_id'])
    .execute();
  await db.schema
    .createIndex('invitation_invited_contacts__contact_id')
    .on('invitation_invited_contacts')
    .column('contact_id')
    .execute();

  // The web roles given on redemption (Assign to Web Roles); each belongs to the invitation's website.
  await db.schema
    .createTable('invitation_web_roles')
    .addColumn('invitation_id', t.id, (c) => c.notNull().references('invitations.id').onDelete('cascade'))
    .addColumn('web_role_id', t.id, (c) => c.notNull().references('web_roles.id'))
    .addPrimaryKeyConstraint('invitation_web_roles__pk', ['invitation_id', 'web_role_id'])
    .execute();
  await db.schema
    .createIndex('invitation_web_roles__web_role_id')
    .on('invitation_web_roles')
    .column('web_role_id')
    .execute();

  // Redeemed Contact(s): the primary key makes "a contact redeems an invitation at most once" a fact.
  await db.schema
    .createTable('invitation_redeemed_contacts')
    .addColumn('invitation_id', t.id, (c) => c.notNull().references('invitations.id'))
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id'))
    .addColumn('redeemed_at', t.instant, (c) => c.notNull())
    .addPrimaryKeyConstraint('invitation_redeemed_contacts__pk', ['invitation_id', 'contact_id'])
    .execute();
  await db.schema
    .createIndex('invitation_redeemed_contacts__contact_id')
    .on('invitation_redeemed_contacts')
    .column('contact_id')
    .execute();

  // The Invite Redemption activity: who redeemed, how, from where.
  await db.schema
    .createTable('invite_redemptions')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('invitation_id', t.id, (c) => c.notNull().references('invitations.id'))
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id'))
    .addColumn('username', 'varchar(254)')
    .addColumn('method', 'varchar(10)', (c) =>
      c.notNull().check(sql`method in ('register', 'signin', 'external')`),
    )
    .addColumn('ip_address', 'varchar(64)')
    .addColumn('user_agent', 'varchar(512)')
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('invite_redemptions__invitation_id')
    .on('invite_redemptions')
    .column('invitation_id')
    .execute();

  // The audit trail: every administrative change and every redemption.
  await db.schema
    .createTable('audit_events')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('actor_type', 'varchar(10)', (c) =>
      c.notNull().check(sql`actor_type in ('user', 'contact', 'system')`),
    )
    .addColumn('actor_id', t.id)
    .addColumn('action', 'varchar(100)', (c) => c.notNull()) // e.g. invitation.created
    .addColumn('entity_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('entity_id', t.id, (c) => c.notNull())
    .addColumn('data', t.json, (c) => c.notNull())
    .addColumn('ip_address', 'varchar(64)')
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events__entity')
    .on('audit_events')
    .columns(['entity_type', 'entity_id'])
    .execute();

  // The durable job queue (transactional outbox): rows are written in the transaction that asks for
  // the work and claimed by workers after commit.
  await db.schema
    .createTable('jobs')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('type', 'varchar(100)', (c) => c.notNull()) // handler name, e.g. workflow.run
    .addColumn('payload', t.json, (c) => c.notNull())
    .addColumn('status', 'varchar(10)', (c) =>
      c.notNull().check(sql`status in ('queued', 'running', 'succeeded', 'dead')`),
    )
    .addColumn('run_at', t.instant, (c) => c.notNull()) // not before
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('locked_by', 'varchar(100)')
    .addColumn('locked_until', t.instant) // lease; a crashed worker's job comes back after it
    .addColumn('last_error', 'varchar(2000)')
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs__status_run_at').on('jobs').columns(['status', 'run_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'jobs',
    'audit_events',
    'invite_redemptions',
    'invitation_redeemed_contacts',
    'invitation_web_roles',
    'invitation_invited_contacts',
    'invitations',
    'workflows',
    'api_keys',
    'users',
    'external_logins',
    'contact_web_roles',
    'contacts',
    'accounts',
    'web_roles',
    'websites',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
