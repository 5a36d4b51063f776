import type { Conn } from '../../db/database.ts';
import { instant } from '../../db/values.ts';

/** Where a contact may sign in (SPEC 5: websites are kept apart), and how it was given. */
export type AccessSource = 'redemption' | 'registration' | 'admin';

export interface WebsiteAccess {
  contactId: string;
  websiteId: string;
  source: AccessSource;
  createdAt: string;
}

export async function findWebsiteAccessOfContact(conn: Conn, contactId: string): Promise<WebsiteAccess[]> {
  const rows = await conn
    .selectFrom('website_access')
    .selectAll()
    .where('contact_id', '=', contactId)
    .where('source', '!=', 'revoked')
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    contactId: r.contact_id,
    websiteId: r.website_id,
    source: r.source as AccessSource,
    createdAt: instant(r.created_at),
  }));
}

export async function hasWebsiteAccess(conn: Conn, contactId: string, websiteId: string): Promise<boolean> {
  const r = await conn
    .selectFrom('website_access')
    .select('contact_id')
    .where('contact_id', '=', contactId)
    .where('website_id', '=', websiteId)
    .where('source', '!=', 'revoked')
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * The statement that gives access (a write batch's); changes no row when the contact has it. An
 * administrator or a redemption gives back access an administrator removed; open registration does
 * not.
 */
export const grantWebsiteAccessWrite = (
  conn: Conn,
  a: { contactId: string; websiteId: string; source: AccessSource; at: string },
) =>
  conn
    .insertInto('website_access')
    .values({ contact_id: a.contactId, website_id: a.websiteId, source: a.source, created_at: a.at })
    .onConflict((oc) =>
      a.source === 'registration'
        ? oc.columns(['contact_id', 'website_id']).doNothing()
        : oc
            .columns(['contact_id', 'website_id'])
            .doUpdateSet({ source: a.source, created_at: a.at })
            .where('website_access.source', '=', 'revoked'),
    )
    .compile();

/** Removes the access (kept as revoked, see grantWebsiteAccessWrite); true when the contact had it. */
export async function revokeWebsiteAccess(
  conn: Conn,
  contactId: string,
  websiteId: string,
): Promise<boolean> {
  const r = await conn
    .updateTable('website_access')
    .set({ source: 'revoked' })
    .where('contact_id', '=', contactId)
    .where('website_id', '=', websiteId)
    .where('source', '!=', 'revoked')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
