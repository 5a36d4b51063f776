import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { uniqueOr } from '../../db/dialect.ts';
import { AppError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { verifyPassword } from '../../passwords.ts';
import { publishEvents, recordAudit } from '../events/event.ts';
import type { WebsiteSettings } from '../websites/website.ts';
import type { Contact } from './contact.repository.ts';
import * as repo from './contact.repository.ts';
import * as access from './website-access.repository.ts';

/**
 * A contact's portal credentials: sign-in, open registration, profile changes, password and email
 * confirmation. Password hashes are computed by the caller before any transaction.
 */

/** Most contacts checked for one sign-in by email when several share it (requireUniqueEmail off). */
const MAX_EMAIL_MATCHES = 3;

/**
 * The contact whose login and password match, and whether it has access to the website, or null;
 * the time spent does not depend on why. Where several contacts share an email (requireUniqueEmail
 * off), those with access to the website are tried first.
 */
export async function authenticate(
  deps: Deps,
  websiteId: string,
  settings: WebsiteSettings,
  login: string,
  password: string,
): Promise<{ contact: Contact; hasAccess: boolean } | null> {
  const key = login.trim();
  const found = settings.localLoginByEmail
    ? (await repo.findContactsByEmail(deps.db, key)).filter((c) => c.loginEnabled)
    : [await repo.findContactByUsername(deps.db, key)].filter((c): c is Contact => c?.loginEnabled === true);
  const withAccess = new Set<string>();
  for (const c of found) if (await access.hasWebsiteAccess(deps.db, c.id, websiteId)) withAccess.add(c.id);
  const candidates = [...found]
    .sort((a, b) => Number(withAccess.has(b.id)) - Number(withAccess.has(a.id)))
    .slice(0, MAX_EMAIL_MATCHES);
  if (candidates.length === 0) {
    await verifyPassword(null, password);
    return null;
  }
  for (const c of candidates) {
    if (await verifyPassword(await repo.findPasswordHash(deps.db, c.id), password))
      return { contact: c, hasAccess: withAccess.has(c.id) };
  }
  return null;
}

/** True when `password` is the contact's (for confirmations that must come from the account's owner). */
export async function isContactPassword(deps: Deps, contactId: string, password: string): Promise<boolean> {
  return verifyPassword(await repo.findPasswordHash(deps.db, contactId), password);
}

/** Records a completed sign-in. */
export const recordSignIn = (deps: Deps, contactId: string) =>
  repo.setLastSignIn(deps.db, contactId, deps.now().toISOString());

/**
 * Gives a contact who proved its credentials access to a website that anyone may register on (open
 * registration): the same as registering there. Audited. False when an administrator removed the
 * contact's access there: that stays removed.
 */
export async function grantOpenRegistrationAccess(
  deps: Deps,
  contactId: string,
  websiteId: string,
  ip: string | null,
): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const at = deps.now().toISOString();
    const r = await trx.executeQuery(
      access.grantWebsiteAccessWrite(trx, { contactId, websiteId, source: 'registration', at }),
    );
    if (Number(r.numAffectedRows ?? 0n) === 0) return false;
    await recordAudit(
      trx,
      deps,
      { type: 'contact', id: contactId, ip },
      'contact.website_access_granted',
      { type: 'contact', id: contactId },
      { websiteId, source: 'registration' },
    );
    return true;
  });
}

const accountExists = () =>
  new AppError('ACCOUNT_EXISTS', 'An account already exists for this email or username. Sign in instead.');

/**
 * Throws ACCOUNT_EXISTS when the email (with requireUniqueEmail) is the confirmed address of another
 * contact that signs in, or the username is another contact's.
 */
export async function checkLoginFree(
  conn: Conn,
  settings: WebsiteSettings,
  login: { email: string | null; username: string | null },
  self?: string,
): Promise<void> {
  if (login.email && settings.requireUniqueEmail) {
    const same = await repo.findContactsByEmail(conn, login.email);
    // An address belongs to the contact that confirmed it: an unconfirmed copy claims nothing.
    if (same.some((c) => c.loginEnabled && c.emailConfirmed && c.id !== self)) throw accountExists();
  }
  if (login.username) {
    const holder = await repo.findContactByUsername(conn, login.username);
    if (holder && holder.id !== self) throw accountExists();
  }
}

/** Open registration (no invitation): a new contact who can sign in there, email unconfirmed. */
export async function registerContact(
  deps: Deps,
  website: { id: string; settings: WebsiteSettings },
  input: { email: string; username: string | null; passwordHash: string; ip: string | null },
): Promise<Contact> {
  const settings = website.settings;
  const at = deps.now().toISOString();
  const contact: Contact = {
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
    pendingEmail: null,
    createdAt: at,
    updatedAt: at,
  };
  await uniqueOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        await checkLoginFree(trx, settings, input);
        await repo.insertContacts(trx, [contact]);
        await repo.setPasswordHash(trx, contact.id, input.passwordHash);
        await trx.executeQuery(
          access.grantWebsiteAccessWrite(trx, {
            contactId: contact.id,
            websiteId: website.id,
            source: 'registration',
            at,
          }),
        );
        const actor: Actor = { type: 'contact', id: contact.id, ip: input.ip };
        await recordAudit(
          trx,
          deps,
          actor,
          'contact.registered',
          { type: 'contact', id: contact.id },
          { websiteId: website.id, method: 'local' },
        );
        await publishEvents(trx, deps, [
          {
            type: 'contact.registered',
            data: {
              contactId: contact.id,
              websiteId: website.id,
              invitationId: null,
              method: 'local',
              identityProviderId: null,
            },
          },
        ]);
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
 * The contact edits their profile (in the caller's transaction). A new email does not replace the
 * primary email: it waits as `pendingEmail` until its confirmation link is followed (confirmEmail),
 * and the confirmed address keeps receiving password resets until then. Returns the address that
 * must be confirmed, or null. Throws EMAIL_CHANGE_UNAVAILABLE where the website sends no
 * confirmations, ACCOUNT_EXISTS when the new email already signs in for another contact.
 */
export async function updateProfile(
  trx: Conn,
  deps: Deps,
  settings: WebsiteSettings,
  contact: Contact,
  input: ProfileInput,
  ip: string | null,
): Promise<{ emailToConfirm: string | null }> {
  const emailChanged = (contact.email ?? '').toLowerCase() !== input.email.toLowerCase();
  if (emailChanged) {
    if (!settings.emailConfirmationEnabled)
      throw new AppError(
        'EMAIL_CHANGE_UNAVAILABLE',
        'This portal cannot confirm a new email address. Ask the people who run it to change it for you.',
      );
    await checkLoginFree(trx, settings, { email: input.email, username: null }, contact.id);
  }
  await repo.updateContact(trx, {
    ...contact,
    firstName: input.firstName,
    lastName: input.lastName,
    pendingEmail: emailChanged ? input.email : null,
    updatedAt: deps.now().toISOString(),
  });
  await recordAudit(
    trx,
    deps,
    { type: 'contact', id: contact.id, ip },
    'contact.profile_updated',
    { type: 'contact', id: contact.id },
    { emailChangeRequested: emailChanged },
  );
  return { emailToConfirm: emailChanged ? input.email : null };
}

export async function setPassword(trx: Conn, contactId: string, passwordHash: string): Promise<void> {
  await repo.setPasswordHash(trx, contactId, passwordHash);
}

/**
 * Confirms `email` for the contact: its pending new email becomes the primary email, or its primary
 * email is marked confirmed. False when the address is neither (a newer change replaced it). Throws
 * ACCOUNT_EXISTS when the new address signs in for another contact by now.
 */
export async function confirmEmail(
  trx: Conn,
  deps: Deps,
  settings: WebsiteSettings,
  contactId: string,
  email: string,
  ip: string | null,
): Promise<boolean> {
  const c = await repo.findContact(trx, contactId);
  if (!c) return false;
  const key = email.toLowerCase();
  const changing = c.pendingEmail?.toLowerCase() === key;
  if (!changing && (c.email ?? '').toLowerCase() !== key) return false;
  await checkLoginFree(trx, settings, { email, username: null }, c.id);
  await repo.updateContact(trx, {
    ...c,
    email: changing ? (c.pendingEmail as string) : c.email,
    pendingEmail: changing ? null : c.pendingEmail,
    emailConfirmed: true,
    updatedAt: deps.now().toISOString(),
  });
  await recordAudit(
    trx,
    deps,
    { type: 'contact', id: c.id, ip },
    'contact.email_confirmed',
    { type: 'contact', id: c.id },
    { changed: changing },
  );
  return true;
}
