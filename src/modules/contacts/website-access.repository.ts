import type { Conn } from '../../db/database.ts';
import { instant } from '../../db/values.ts';

/** Where a contact may sign in (SPEC 5: websites are kept apart). */
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
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    contactId: r.contact_id,
    websiteId: r.website_id,
    source: r.source,
    createdAt: instant(r.created_at),
  }));
}

export async function hasWebsiteAccess(conn: Conn, contactId: string, websiteId: string): Promise<boolean> {
  const r = await conn
    .selectFrom('website_access')
    .select('contact_id')
    .where('contact_id', '=', contactId)
    .where('website_id', '=', websiteId)
    .executeTakeFirst();
  return r !== undefined;
}

/** The statement that gives access (a write batch's); changes nothing when the contact has it. */
export const grantWebsiteAccessWrite = (
  conn: Conn,
  a: { contactId: string; websiteId: string; source: AccessSource; at: string },
) =>
  conn
    .insertInto('website_access')
    .values({ contact_id: a.contactId, website_id: a.websiteId, source: a.source, created_at: a.at })
    .onConflict((oc) => oc.columns(['contact_id', 'website_id']).doNothing())
    .compile();

/** Removes the access; true when the contact had it. */
export async function deleteWebsiteAccess(
  conn: Conn,
  contactId: string,
  websiteId: string,
): Promise<boolean> {
  const r = await conn
    .deleteFrom('website_access')
    .where('contact_id', '=', contactId)
    .where('website_id', '=', websiteId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
