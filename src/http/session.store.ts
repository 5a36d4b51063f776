import type { Selectable } from 'kysely';
import type { Conn } from '../db/database.ts';
import type { SessionsTable } from '../db/schema.ts';
import { instant, json, parsed } from '../db/values.ts';

/** SQL of the sessions table (see session.ts). */
export interface SessionRow {
  id: string;
  websiteId: string | null;
  contactId: string | null;
  /** A back-office user's session (the admin console); portal sessions have a contact instead. */
  userId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

export async function findSession(conn: Conn, id: string): Promise<SessionRow | undefined> {
  const r = await conn.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toSessionRow(r);
}

/** A sessions row as the driver returns it, as a SessionRow. */
export function toSessionRow(r: Selectable<SessionsTable>): SessionRow {
  return {
    id: r.id,
    websiteId: r.website_id,
    contactId: r.contact_id,
    userId: r.user_id,
    data: parsed<Record<string, unknown>>(r.data),
    createdAt: instant(r.created_at),
    lastSeenAt: instant(r.last_seen_at),
    expiresAt: instant(r.expires_at),
  };
}

export async function insertSession(conn: Conn, s: SessionRow): Promise<void> {
  await conn
    .insertInto('sessions')
    .values({
      id: s.id,
      website_id: s.websiteId,
      contact_id: s.contactId,
      user_id: s.userId,
      data: json(s.data),
      created_at: s.createdAt,
      last_seen_at: s.lastSeenAt,
      expires_at: s.expiresAt,
    })
    .execute();
}

/** Writes the session's state; with `newId`, under a new id (rotation): the old id stops working. */
export async function updateSession(conn: Conn, s: SessionRow, newId?: string): Promise<void> {
  await conn
    .updateTable('sessions')
    .set({
      ...(newId ? { id: newId } : {}),
      website_id: s.websiteId,
      contact_id: s.contactId,
      user_id: s.userId,
      data: json(s.data),
      last_seen_at: s.lastSeenAt,
      expires_at: s.expiresAt,
    })
    .where('id', '=', s.id)
    .execute();
}

export async function touchSession(conn: Conn, id: string, at: string): Promise<void> {
  await conn.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
}

export async function deleteSession(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Signs a contact out everywhere (after a password reset), or on one website (access removed). */
export async function deleteSessionsOfContact(
  conn: Conn,
  contactId: string,
  websiteId?: string,
): Promise<void> {
  let q = conn.deleteFrom('sessions').where('contact_id', '=', contactId);
  if (websiteId) q = q.where('website_id', '=', websiteId);
  await q.execute();
}

/** Signs a back-office user out everywhere (after a password is set through a link). */
export async function deleteSessionsOfUser(conn: Conn, userId: string): Promise<void> {
  await conn.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

/** Two statements, so each uses its index (an OR of the two scanned the table). */
export async function deleteExpiredSessions(conn: Conn, now: string, idleBefore: string): Promise<void> {
  await conn.deleteFrom('sessions').where('expires_at', '<=', now).execute();
  await conn.deleteFrom('sessions').where('last_seen_at', '<', idleBefore).execute();
}
