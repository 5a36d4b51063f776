import type { Deps } from '../../context.ts';
import { checkAccountLimit, countAccountAttempt } from '../../http/rate-limit.ts';
import { signOutEverywhere } from '../../http/session.ts';
import { hashPassword, passwordProblem } from '../../passwords.ts';
import {
  authenticate,
  type Contact,
  confirmEmail,
  findContact,
  findContactsByEmail,
  grantOpenRegistrationAccess,
  hasWebsiteAccess,
  isContactPassword,
  recordSignIn,
  setPassword,
  updateProfile,
} from '../contacts/contact.ts';
import { recordAudit } from '../events/event.ts';
import {
  type CodeRef,
  describePending,
  type ExternalIdentity,
  redeemInvitation,
} from '../invitations/invitation.ts';
import type { Website } from '../websites/website.ts';
import { findValidToken, spendToken, type TokenPurpose } from './contact-token.ts';
import { type Client, emailProblem, type FormError } from './portal.context.ts';
import { mailToken } from './portal.mail.ts';

/**
 * The portal's account use cases (SPEC 5): sign-in (only where the contact has access), redemption
 * by a signed-in contact, profile (an email change waits for its confirmation), password reset and
 * email confirmation. Each returns form errors in words, or throws an AppError the portal's pages
 * know (INVITATION_NOT_REDEEMABLE, ACCOUNT_EXISTS, EMAIL_CHANGE_UNAVAILABLE, RATE_LIMITED).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: names must not carry control characters
const NAME = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]{1,100}$/;

export type SignIn =
  | { errors: FormError[] }
  /** Signed in on this website. */
  | { contact: Contact }
  /** The credentials are right and may redeem the pending invitation, which gives the access. */
  | { verified: Contact };

/**
 * Signs in on this website. The credentials work where the contact has access; on a website anyone
 * may register on, proving them gives access as registering would; with a pending invitation the
 * contact may redeem, they are verified for that redemption only. Anything else fails exactly like
 * wrong credentials. Failures count against the account (RATE_LIMITED after the per-account limit).
 */
export async function signIn(
  deps: Deps,
  website: Website,
  form: { login: string; password: string },
  pending: CodeRef | null,
  client: Client,
): Promise<SignIn> {
  const s = website.settings;
  const errors: FormError[] = [];
  if (form.login === '')
    errors.push({
      field: 'login',
      message: s.localLoginByEmail ? 'Enter your email.' : 'Enter your username.',
    });
  if (form.password === '') errors.push({ field: 'password', message: 'Enter your password.' });
  if (errors.length > 0) return { errors };
  await checkAccountLimit(deps, 'signin', form.login, client.ip);
  const found = await authenticate(deps, website.id, s, form.login, form.password);
  if (found?.hasAccess) {
    await recordSignIn(deps, found.contact.id);
    return { contact: found.contact };
  }
  if (
    found &&
    s.registrationEnabled &&
    s.openRegistrationEnabled &&
    (await grantOpenRegistrationAccess(deps, found.contact.id, website.id, client.ip))
  ) {
    await recordSignIn(deps, found.contact.id);
    return { contact: found.contact };
  }
  if (found && pending) {
    const d = await describePending(deps, website.id, pending, { contactId: found.contact.id, settings: s });
    if ('pending' in d && d.pending.contactRefusal === null) return { verified: found.contact };
  }
  await countAccountAttempt(deps, 'signin', form.login, client.ip);
  return {
    errors: [
      {
        field: 'login',
        message: `The ${s.localLoginByEmail ? 'email' : 'username'} or password is not right.`,
      },
    ],
  };
}

/** The contact (signed in, or verified for it) redeems the pending invitation. */
export async function redeemSignedIn(
  deps: Deps,
  website: Website,
  contact: Contact,
  pending: CodeRef,
  client: Client,
  link?: ExternalIdentity,
): Promise<void> {
  await redeemInvitation(deps, {
    websiteId: website.id,
    code: pending,
    redeemer: link
      ? { kind: 'contact', contactId: contact.id, method: 'external', row: contact, link }
      : { kind: 'contact', contactId: contact.id, method: 'signin', row: contact },
    ipAddress: client.ip,
    userAgent: client.userAgent,
  });
}

export interface ProfileForm {
  firstName: string;
  lastName: string;
  email: string;
}

/** Saves the profile; a changed email is mailed a confirmation link and waits for it. */
export async function saveProfile(
  deps: Deps,
  website: Website,
  contact: Contact,
  form: ProfileForm,
  client: Client,
): Promise<{ errors: FormError[] } | { contact: Contact; emailToConfirm: string | null }> {
  const errors: FormError[] = [];
  if (!NAME.test(form.firstName))
    errors.push({ field: 'firstName', message: 'Enter your first name (up to 100 characters).' });
  if (!NAME.test(form.lastName))
    errors.push({ field: 'lastName', message: 'Enter your last name (up to 100 characters).' });
  const e = emailProblem(form.email);
  if (e) errors.push({ field: 'email', message: e });
  if (errors.length > 0) return { errors };
  if ((contact.email ?? '').toLowerCase() !== form.email.toLowerCase()) {
    // Each change mails a link to the new address: counted per recipient.
    await checkAccountLimit(deps, 'mail', form.email, null);
    await countAccountAttempt(deps, 'mail', form.email, null);
  }
  const { emailToConfirm } = await deps.db
    .transaction()
    .execute((trx) => updateProfile(trx, deps, website.settings, contact, form, client.ip));
  const updated = (await findContact(deps.db, contact.id)) as Contact;
  if (emailToConfirm) await mailToken(deps, website, updated, 'confirm-email', emailToConfirm);
  return { contact: updated, emailToConfirm };
}

/**
 * Sends a reset link to the confirmed primary email when a contact who can sign in on this website
 * has it; says nothing either way. Requests count against the address (RATE_LIMITED after the
 * per-account limit), so nobody's inbox can be flooded.
 */
export async function forgotPassword(
  deps: Deps,
  website: Website,
  email: string,
): Promise<{ errors: FormError[] } | { sent: true }> {
  const e = emailProblem(email);
  if (e) return { errors: [{ field: 'email', message: e }] };
  await checkAccountLimit(deps, 'forgot', email, null);
  await countAccountAttempt(deps, 'forgot', email, null);
  for (const c of await findContactsByEmail(deps.db, email)) {
    if (
      c.loginEnabled &&
      c.email &&
      c.emailConfirmed &&
      (await hasWebsiteAccess(deps.db, c.id, website.id))
    ) {
      await mailToken(deps, website, c, 'reset-password', c.email);
      break;
    }
  }
  return { sent: true };
}

export const isTokenValid = async (deps: Deps, website: Website, token: string, purpose: TokenPurpose) =>
  (await findValidToken(deps.db, deps, token, purpose, website.id)) !== null;

export const tokenEmail = async (deps: Deps, website: Website, token: string) =>
  (await findValidToken(deps.db, deps, token, 'confirm-email', website.id))?.email ?? null;

/** Sets a new password with a reset token (once), and signs the contact out everywhere. */
export async function resetPassword(
  deps: Deps,
  website: Website,
  token: string,
  form: { password: string; confirmPassword: string },
  client: Client,
): Promise<{ errors: FormError[] } | { invalid: true } | { done: true }> {
  const t = await findValidToken(deps.db, deps, token, 'reset-password', website.id);
  if (!t) return { invalid: true };
  const contact = await findContact(deps.db, t.contactId);
  const p =
    form.password === ''
      ? 'Enter a password.'
      : await passwordProblem(form.password, {
          username: contact?.username,
          email: contact?.email,
          websiteName: website.name,
        });
  if (p) return { errors: [{ field: 'password', message: p }] };
  if (form.password !== form.confirmPassword)
    return { errors: [{ field: 'confirmPassword', message: 'The passwords do not match.' }] };
  const passwordHash = await hashPassword(form.password);
  const contactId = await deps.db.transaction().execute(async (trx) => {
    const valid = await findValidToken(trx, deps, token, 'reset-password', website.id);
    if (!valid || !(await spendToken(trx, valid.id, deps.now().toISOString()))) return null;
    await setPassword(trx, valid.contactId, passwordHash);
    await signOutEverywhere(trx, valid.contactId);
    await recordAudit(
      trx,
      deps,
      { type: 'contact', id: valid.contactId, ip: client.ip },
      'contact.password_reset',
      { type: 'contact', id: valid.contactId },
      {},
    );
    return valid.contactId;
  });
  return contactId ? { done: true } : { invalid: true };
}

/**
 * Confirms the email a confirmation token was sent to (once): a pending new email becomes the
 * primary email, or the primary email is marked confirmed. The account's password must come with
 * the link: the inbox's owner alone could otherwise confirm, unknowingly, an account someone else
 * registered under that address, with a password that someone else knows. `invalid` when the link
 * no longer applies; throws ACCOUNT_EXISTS when the address is another contact's confirmed one.
 */
export async function confirmEmailToken(
  deps: Deps,
  website: Website,
  token: string,
  password: string,
  client: Client,
): Promise<{ confirmed: true } | { invalid: true } | { errors: FormError[] }> {
  const t = await findValidToken(deps.db, deps, token, 'confirm-email', website.id);
  if (!t?.email) return { invalid: true };
  if (password === '') return { errors: [{ field: 'password', message: 'Enter your password.' }] };
  if (!(await isContactPassword(deps, t.contactId, password)))
    return { errors: [{ field: 'password', message: 'That is not the password of this account.' }] };
  const confirmed = await deps.db.transaction().execute(async (trx) => {
    const valid = await findValidToken(trx, deps, token, 'confirm-email', website.id);
    if (!valid?.email || !(await spendToken(trx, valid.id, deps.now().toISOString()))) return false;
    return confirmEmail(trx, deps, website.settings, valid.contactId, valid.email, client.ip);
  });
  return confirmed ? { confirmed: true } : { invalid: true };
}
