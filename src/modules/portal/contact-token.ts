import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { instant } from '../../db/values.ts';
import { newId } from '../../ids.ts';
import { idOfSignedToken, signedToken } from '../../keys.ts';

/**
 * One-time tokens mailed to a contact: password reset (valid an hour) and email confirmation (a
 * week). The token is `{id}.{HMAC(contact-token key, id)}`: the table holds only the id, so it
 * cannot be used to reset anyone's password, and a token is checked without a lookup by secret.
 * A token is used once; a newer reset token does not revoke older ones, which expire within the hour.
 */
export type TokenPurpose = 'reset-password' | 'confirm-email';

const LIFETIME_MS: Record<TokenPurpose, number> = {
  'reset-password': 3_600_000,
  'confirm-email': 7 * 86_400_000,
};

export interface ContactToken {
  id: string;
  contactId: string;
  websiteId: string;
  purpose: TokenPurpose;
  email: string | null;
}

export const tokenFor = (deps: Pick<Deps, 'keys'>, id: string): string =>
  signedToken(deps.keys.contactToken, id);

export async function issueToken(trx: Conn, deps: Deps, t: Omit<ContactToken, 'id'>): Promise<string> {
  const now = deps.now();
  const id = newId();
  await trx
    .insertInto('contact_tokens')
    .values({
      id,
      contact_id: t.contactId,
      website_id: t.websiteId,
      purpose: t.purpose,
      email: t.email,
      expires_at: new Date(now.getTime() + LIFETIME_MS[t.purpose]).toISOString(),
      used_at: null,
      created_at: now.toISOString(),
    })
    .execute();
  return id;
}

/** The token's record when it is valid (signed, unused, unexpired, this website and purpose). */
export async function findValidToken(
  conn: Conn,
  deps: Deps,
  token: string,
  purpose: TokenPurpose,
  websiteId: string,
): Promise<ContactToken | null> {
  const id = idOfSignedToken(deps.keys.contactToken, token);
  if (!id) return null;
  const r = await conn.selectFrom('contact_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r || r.purpose !== purpose || r.website_id !== websiteId || r.used_at !== null) return null;
  if (Date.parse(instant(r.expires_at)) <= deps.now().getTime()) return null;
  return { id: r.id, contactId: r.contact_id, websiteId: r.website_id, purpose: r.purpose, email: r.email };
}

/**
 * The website and address of a token, by id (its email's message source); undefined when it is
 * gone, used or expired, so that a dead link is never mailed.
 */
export async function findTokenAddress(
  conn: Conn,
  id: string,
  now: Date,
): Promise<{ websiteId: string; email: string | null } | undefined> {
  const r = await conn
    .selectFrom('contact_tokens')
    .select(['website_id', 'email', 'expires_at', 'used_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r || r.used_at !== null || Date.parse(instant(r.expires_at)) <= now.getTime()) return undefined;
  return { websiteId: r.website_id, email: r.email };
}

/** Marks the token used; false if another request used it first (so it works once). */
export async function spendToken(trx: Conn, id: string, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('contact_tokens')
    .set({ used_at: at })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
