import type { Actor, Deps } from '../../context.ts';
import { type Conn, uniqueOr } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { verifyPassword } from '../../passwords.ts';
import { recordAudit } from '../events/audit.service.ts';
import type { WebsiteSettings } from '../websites/website.settings.ts';
import type { ContactRow } from './contact.repository.ts';
import * as repo from './contact.repository.ts';

/**
 * A contact's portal credentials: sign-in, open registration, profile changes, password and email
 * confirmation. Password hashes are computed by the caller before any transaction.
 */

/** Most contacts checked for one sign-in by email when several share it (requireUniqueEmail off). */
const MAX_EMAIL_MATCHES = 3;

/** The contact whose login and password match, or null; the time spent does not depend on why. */
export async function authenticate(
  deps: Deps,
  settings: WebsiteSettings,
  login: string,
  password: string,
): Promise<ContactRow | null> {
  const key = login.trim();
  const candidates = settings.localLoginByEmail
    ? (await repo.findContactsByEmail(deps.db, key)).filter((c) => c.loginEnabled).slice(0, MAX_EMAIL_MATCHES)
    : [await repo.findContactByUsername(deps.db, key)].filter(
        (c): c is ContactRow => c?.loginEnabled === true,
      );
  if (candidates.length === 0) {
    await verifyPassword(null, password);
    return null;
  }
  for (const c of candidates) {
    if (await verifyPassword(await repo.findPasswordHash(deps.db, c.id), password)) {
      await repo.setLastSignIn(deps.db, c.id, deps.now().toISOString());
      return c;
    }
  }
  return null;
}

const accountExists = () =>
  new AppError('ACCOUNT_EXISTS', 'An account already exists for this email or username. Sign in instead.');

/** Throws ACCOUNT_EXISTS when the email (with requireUniqueEmail) or username signs in for another contact. */
export async function checkLoginFree(
  conn: Conn,
  settings: WebsiteSettings,
  login: { email: string | null; username: string | null },
  self?: string,
): Promise<void> {
  if (login.email && settings.requireUniqueEmail) {
    const same = await repo.findContactsByEmail(conn, login.email);
    if (same.some((c) => c.loginEnabled && c.id !== self)) throw accountExists();
  }
  if (login.username) {
    const holder = await repo.findContactByUsername(conn, login.username);
    if (holder && holder.id !== self) throw accountExists();
  }
}

/** Open registration (no invitation): a new contact who can sign in, email unconfirmed. */
export async function registerContact(
  deps: Deps,
  settings: WebsiteSettings,
  input: { email: string; username: string | null; passwordHash: string; ip: string | null },
): Promise<ContactRow> {
  const at = deps.now().toISOString();
  const contact: ContactRow = {
    id: newId(),
    firstName: '',
    lastName: '',
    email: input.email,
    email2: null,
    email3: null,
    parentAccountId: null,
    username: input.username,
    loginEnabled: true,
    emailConfirmed: false,
    lastSignInAt: at,
    createdAt: at,
    updatedAt: at,
  };
  await uniqueOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        await checkLoginFree(trx, settings, input);
        await repo.insertContacts(trx, [contact]);
        await repo.setPasswordHash(trx, contact.id, input.passwordHash);
        const actor: Actor = { type: 'contact', id: contact.id, ip: input.ip };
        await recordAudit(trx, deps, actor, 'contact.registered', { type: 'contact', id: contact.id }, {});
      }),
    accountExists,
  );
  return contact;
}

export interface ProfileInput {
  firstName: string;
  lastName: string;
  email: string;
}

/**
 * The contact edits their profile (in the caller's transaction). A changed email is unconfirmed
 * until confirmed; returns whether it changed.
 */
export async function updateProfile(
  trx: Conn,
  deps: Deps,
  settings: WebsiteSettings,
  contact: ContactRow,
  input: ProfileInput,
  ip: string | null,
): Promise<{ emailChanged: boolean }> {
  const emailChanged = (contact.email ?? '').toLowerCase() !== input.email.toLowerCase();
  if (emailChanged) await checkLoginFree(trx, settings, { email: input.email, username: null }, contact.id);
  const at = deps.now().toISOString();
  await repo.updateContact(trx, {
    ...contact,
    firstName: input.firstName,
    lastName: input.lastName,
    email: input.email,
    emailConfirmed: emailChanged ? false : contact.emailConfirmed,
    updatedAt: at,
  });
  await recordAudit(
    trx,
    deps,
    { type: 'contact', id: contact.id, ip },
    'contact.profile_updated',
    { type: 'contact', id: contact.id },
    { emailChanged },
  );
  return { emailChanged };
}

export async function setPassword(trx: Conn, contactId: string, passwordHash: string): Promise<void> {
  await repo.setPasswordHash(trx, contactId, passwordHash);
}

/** Marks the email confirmed if it is still the contact's primary email. */
export async function confirmEmail(
  trx: Conn,
  contactId: string,
  email: string,
  at: string,
): Promise<boolean> {
  const c = await repo.findContact(trx, contactId);
  if (!c || (c.email ?? '').toLowerCase() !== email.toLowerCase()) return false;
  await repo.updateContact(trx, { ...c, emailConfirmed: true, updatedAt: at });
  return true;
}
