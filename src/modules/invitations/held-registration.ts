import { timingSafeEqual } from 'node:crypto';
import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { instant } from '../../db/values.ts';
import { newId } from '../../ids.ts';
import { hmacHex } from '../../keys.ts';

/**
 * A registration through an invitation that waits for its email to be confirmed (SPEC 5): a Single
 * invitation registered under another email (when the website allows it), or a Group registrant
 * claiming an invited contact's record. Nothing is granted and no contact changes until the link
 * mailed to `email` is followed; following it completes the redemption (redemption.service.ts).
 *
 * The token mailed is `{id}.{HMAC(contact-token key, "registration:" id)}`: the table holds only the
 * id, so a copy of it completes nothing. A held registration is used once and expires after a day.
 */
const LIFETIME_MS = 86_400_000;

export interface HeldRegistration {
  id: string;
  websiteId: string;
  invitationId: string;
  /** The code it was made with: a regenerated code retires it too. */
  codeHash: string;
  /** The invited contact it claims; null for a new contact. */
  contactId: string | null;
  /**
   * That contact's primary email when the registration was held: if it changes meanwhile (an
   * administrator corrected it), the registration no longer completes.
   */
  claimedEmail: string | null;
  email: string;
  username: string | null;
  passwordHash: string;
}

const macOf = (deps: Pick<Deps, 'keys'>, id: string) => hmacHex(deps.keys.contactToken, `registration:${id}`);

export const heldRegistrationToken = (deps: Pick<Deps, 'keys'>, id: string): string =>
  `${id}.${macOf(deps, id)}`;

/** Holds a registration (inside the caller's transaction); returns its id. */
export async function holdRegistration(
  trx: Conn,
  deps: Pick<Deps, 'now'>,
  r: Omit<HeldRegistration, 'id'>,
): Promise<string> {
  const now = deps.now();
  const id = newId();
  await trx
    .insertInto('pending_registrations')
    .values({
      id,
      website_id: r.websiteId,
      invitation_id: r.invitationId,
      code_hash: r.codeHash,
      contact_id: r.contactId,
      claimed_email: r.claimedEmail,
      email: r.email,
      username: r.username,
      password_hash: r.passwordHash,
      expires_at: new Date(now.getTime() + LIFETIME_MS).toISOString(),
      used_at: null,
      created_at: now.toISOString(),
    })
    .execute();
  return id;
}

/**
 * Where the confirmation of a held registration goes, by id (its email's message source); undefined
 * when it is gone, used or expired, so that a dead link is never mailed.
 */
export async function findHeldRegistrationAddress(
  conn: Conn,
  id: string,
  now: Date,
): Promise<{ websiteId: string; email: string; contactId: string | null } | undefined> {
  const r = await conn
    .selectFrom('pending_registrations')
    .select(['website_id', 'email', 'contact_id', 'expires_at', 'used_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r || r.used_at !== null || Date.parse(instant(r.expires_at)) <= now.getTime()) return undefined;
  return { websiteId: r.website_id, email: r.email, contactId: r.contact_id };
}

/** The held registration of a valid token (signed, unused, unexpired, this website), else null. */
export async function findHeldRegistration(
  conn: Conn,
  deps: Pick<Deps, 'keys' | 'now'>,
  token: string,
  websiteId: string,
): Promise<HeldRegistration | null> {
  const m = /^([0-9a-f-]{36})\.([0-9a-f]{64})$/.exec(token);
  if (!m) return null;
  const [, id, mac] = m as unknown as [string, string, string];
  if (!timingSafeEqual(Buffer.from(macOf(deps, id)), Buffer.from(mac))) return null;
  const r = await conn
    .selectFrom('pending_registrations')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r || r.website_id !== websiteId || r.used_at !== null) return null;
  if (Date.parse(instant(r.expires_at)) <= deps.now().getTime()) return null;
  return {
    id: r.id,
    websiteId: r.website_id,
    invitationId: r.invitation_id,
    codeHash: r.code_hash,
    contactId: r.contact_id,
    claimedEmail: r.claimed_email,
    email: r.email,
    username: r.username,
    passwordHash: r.password_hash,
  };
}

/** The statement that uses a held registration up (a write batch's: exactly one row, or nothing). */
export const spendHeldRegistrationWrite = (conn: Conn, id: string, at: string) => ({
  query: conn
    .updateTable('pending_registrations')
    .set({ used_at: at })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .compile(),
  expect: 1,
});
