import type { Conn } from '../../db/database.ts';
import { type SessionRow, toSessionRow } from '../../http/session.store.ts';
import { type Contact, toContact } from '../contacts/contact.ts';

export interface PortalSessionRow extends SessionRow {
  /**
   * The signed-in contact, read with the session (one query per request, not two); null unless the
   * contact still has access to the session's website.
   */
  contact: Contact | null;
}

/** The session and its contact (when it has access to the session's website) in one query. */
export async function findSessionAndContact(conn: Conn, id: string): Promise<PortalSessionRow | undefined> {
  const r = await conn
    .selectFrom('sessions')
    .leftJoin('contacts', 'contacts.id', 'sessions.contact_id')
    .leftJoin('website_access', (j) =>
      j
        .onRef('website_access.contact_id', '=', 'sessions.contact_id')
        .onRef('website_access.website_id', '=', 'sessions.website_id')
        .on('website_access.source', '!=', 'revoked'),
    )
    .select([
      'sessions.id as s_id',
      'sessions.website_id as s_website_id',
      'sessions.contact_id as s_contact_id',
      'sessions.user_id as s_user_id',
      'sessions.data as s_data',
      'sessions.created_at as s_created_at',
      'sessions.last_seen_at as s_last_seen_at',
      'sessions.expires_at as s_expires_at',
      'website_access.contact_id as access_contact_id',
    ])
    .selectAll('contacts')
    .where('sessions.id', '=', id)
    .executeTakeFirst();
  if (!r) return undefined;
  const session = toSessionRow({
    id: r.s_id,
    website_id: r.s_website_id,
    contact_id: r.s_contact_id,
    user_id: r.s_user_id,
    data: r.s_data,
    created_at: r.s_created_at,
    last_seen_at: r.s_last_seen_at,
    expires_at: r.s_expires_at,
  });
  return {
    ...session,
    contact:
      r.id === null || r.access_contact_id === null ? null : toContact(r as Parameters<typeof toContact>[0]),
  };
}
