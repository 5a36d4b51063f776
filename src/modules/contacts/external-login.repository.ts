import type { CompiledQuery } from 'kysely';
import type { Conn } from '../../db/database.ts';
import { isPostgres } from '../../db/dialect.ts';
import { instant } from '../../db/values.ts';

/**
 * External logins: an identity provider's subject linked to a contact, who then signs in with that
 * provider (SPEC 5). One contact per (provider, subject), kept by the unique constraint
 * `external_logins__provider_id_subject`, so two callbacks racing to link one subject link it once.
 */
/** A provider's subject linked to a contact (SPEC 2 Contact.externalLogins). */
export interface ExternalLogin {
  id: string;
  /** The identity provider's display name. */
  provider: string;
  providerId: string;
  /** The website of the provider. */
  websiteId: string;
  subject: string;
  /** The provider's email when the login was linked. */
  email: string | null;
  linkedAt: string;
  lastUsedAt: string | null;
}

export async function findExternalLoginsOfContacts(
  conn: Conn,
  ids: readonly string[],
): Promise<Map<string, ExternalLogin[]>> {
  const map = new Map<string, ExternalLogin[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return map;
  const rows = await conn
    .selectFrom('external_logins')
    .innerJoin('identity_providers', 'identity_providers.id', 'external_logins.provider_id')
    .select([
      'external_logins.id',
      'external_logins.contact_id',
      'external_logins.provider_id',
      'identity_providers.display_name',
      'identity_providers.website_id',
      'external_logins.subject',
      'external_logins.email',
      'external_logins.created_at',
      'external_logins.last_used_at',
    ])
    .where('external_logins.contact_id', 'in', ids)
    .orderBy('external_logins.id')
    .execute();
  for (const r of rows)
    map.get(r.contact_id)?.push({
      id: r.id,
      provider: r.display_name,
      providerId: r.provider_id,
      websiteId: r.website_id,
      subject: r.subject,
      email: r.email,
      linkedAt: instant(r.created_at),
      lastUsedAt: instant(r.last_used_at),
    });
  return map;
}

/** The contact the provider's subject is linked to, and the link's id; undefined when unlinked. */
export async function findLinkedContact(
  conn: Conn,
  providerId: string,
  subject: string,
): Promise<{ loginId: string; contactId: string } | undefined> {
  const r = await conn
    .selectFrom('external_logins')
    .select(['id', 'contact_id'])
    .where('provider_id', '=', providerId)
    .where('subject', '=', subject)
    .executeTakeFirst();
  return r && { loginId: r.id, contactId: r.contact_id };
}

/**
 * The statement that links a subject to a contact, for a write batch: it changes no row when the
 * subject is linked already (to anyone), so a batch expecting one row fails as a whole then.
 */
export const linkExternalLoginWrite = (
  conn: Conn,
  l: { id: string; contactId: string; providerId: string; subject: string; email: string | null; at: string },
): CompiledQuery =>
  conn
    .insertInto('external_logins')
    .values({
      id: l.id,
      contact_id: l.contactId,
      provider_id: l.providerId,
      subject: l.subject,
      email: l.email,
      created_at: l.at,
      last_used_at: l.at,
    })
    .onConflict((oc) => oc.columns(['provider_id', 'subject']).doNothing())
    .compile();

export async function touchExternalLogin(conn: Conn, loginId: string, at: string): Promise<void> {
  await conn.updateTable('external_logins').set({ last_used_at: at }).where('id', '=', loginId).execute();
}

/** Removes the contact's link `loginId`; false when the contact has no such link. */
/** Removes one of the contact's logins; the provider it was of, or null when there is no such login. */
export async function deleteExternalLogin(
  conn: Conn,
  contactId: string,
  loginId: string,
): Promise<string | null> {
  const r = await conn
    .deleteFrom('external_logins')
    .where('id', '=', loginId)
    .where('contact_id', '=', contactId)
    .returning('provider_id')
    .executeTakeFirst();
  return r?.provider_id ?? null;
}

/**
 * Takes the contact's row lock on PostgreSQL (SQLite's one writer needs none), so that changes to
 * its ways of signing in take turns; true when the contact has a password.
 */
export async function lockSignInMethods(conn: Conn, contactId: string): Promise<{ hasPassword: boolean }> {
  let q = conn.selectFrom('contacts').select('password_hash').where('id', '=', contactId);
  if (isPostgres(conn)) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return { hasPassword: (row?.password_hash ?? null) !== null };
}
