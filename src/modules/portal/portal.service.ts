import type { Deps } from '../../context.ts';
import { signOutEverywhere } from '../../http/session.ts';
import { hashPassword, passwordProblem } from '../../passwords.ts';
import {
  authenticate,
  confirmEmail,
  registerContact,
  setPassword,
  updateProfile,
} from '../contacts/contact.credentials.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import { findContactRow, findContactsByEmail } from '../contacts/contact.service.ts';
import { recordAudit } from '../events/audit.service.ts';
import type { CodeRef } from '../invitations/invitation.lookup.ts';
import { redeemInvitation } from '../invitations/redemption.service.ts';
import type { Website } from '../websites/website.service.ts';
import { findValidToken, issueToken, spendToken, type TokenPurpose } from './contact-token.ts';
import type { FormError } from './portal.context.ts';
import { queueContactEmail } from './portal.mail.ts';

/**
 * The portal's use cases (SPEC 5): registration (with an invitation or open), sign-in, redemption
 * by a signed-in contact, profile, password reset and email confirmation. Routes validate nothing
 * themselves: each use case returns form errors in words, or throws an AppError the portal's error
 * page knows (INVITATION_NOT_REDEEMABLE, ACCOUNT_EXISTS, RATE_LIMITED).
 */
export interface Client {
  ip: string;
  userAgent: string | null;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const USERNAME = /^[A-Za-z0-9._@+-]{3,100}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: names must not carry control characters
const NAME = /^[^\u0000-\u001f\u007f]{1,100}$/;

export function emailProblem(email: string): string | null {
  if (email === '') return 'Enter your email address.';
  if (email.length > 320 || !EMAIL.test(email)) return 'Enter an email address like name@example.com.';
  return null;
}

export interface RegistrationForm {
  email: string;
  username: string;
  password: string;
  confirmPassword: string;
}

async function registrationErrors(website: Website, f: RegistrationForm): Promise<FormError[]> {
  const errors: FormError[] = [];
  const e = emailProblem(f.email);
  if (e) errors.push({ field: 'email', message: e });
  if (!website.settings.localLoginByEmail && !USERNAME.test(f.username)) {
    errors.push({
      field: 'username',
      message:
        f.username === ''
          ? 'Enter a username.'
          : 'Use 3 to 100 letters, digits, dots, dashes, underscores, @ or +.',
    });
  }
  const p = f.password === '' ? 'Enter a password.' : await passwordProblem(f.password);
  if (p) errors.push({ field: 'password', message: p });
  else if (f.password !== f.confirmPassword)
    errors.push({ field: 'confirmPassword', message: 'The passwords do not match.' });
  return errors;
}

export type Registered = { contact: ContactRow; emailConfirmed: boolean };

/**
 * Registers with the pending invitation (redeemed in the same step) or, without one, by open
 * registration. The password is hashed before any transaction. An unconfirmed email gets a
 * confirmation email (when the website confirms emails).
 */
export async function register(
  deps: Deps,
  website: Website,
  form: RegistrationForm,
  pending: CodeRef | null,
  client: Client,
): Promise<{ errors: FormError[] } | Registered> {
  const errors = await registrationErrors(website, form);
  if (errors.length > 0) return { errors };
  const passwordHash = await hashPassword(form.password);
  const username = website.settings.localLoginByEmail ? null : form.username;
  let contact: ContactRow | undefined;
  if (pending) {
    const r = await redeemInvitation(deps, {
      websiteId: website.id,
      code: pending,
      redeemer: { kind: 'register', email: form.email, username, passwordHash },
      ipAddress: client.ip,
      userAgent: client.userAgent,
    });
    contact = await findContactRow(deps.db, r.contactId);
  } else {
    contact = await registerContact(deps, website.settings, {
      email: form.email,
      username,
      passwordHash,
      ip: client.ip,
    });
  }
  if (!contact) throw new Error('registered contact not found');
  if (!contact.emailConfirmed) await sendConfirmation(deps, website, contact);
  return { contact, emailConfirmed: contact.emailConfirmed };
}

async function sendConfirmation(deps: Deps, website: Website, contact: ContactRow): Promise<void> {
  if (!website.settings.emailConfirmationEnabled || !contact.email) return;
  await mailToken(deps, website, contact, 'confirm-email', contact.email);
}

async function mailToken(
  deps: Deps,
  website: Website,
  contact: ContactRow,
  purpose: TokenPurpose,
  to: string,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const tokenId = await issueToken(trx, deps, {
      contactId: contact.id,
      websiteId: website.id,
      purpose,
      email: to,
    });
    await queueContactEmail(trx, deps, { contactId: contact.id, to, purpose, tokenId });
  });
  deps.notifyJobs();
}

export async function signIn(
  deps: Deps,
  website: Website,
  login: string,
  password: string,
): Promise<{ errors: FormError[] } | { contact: ContactRow }> {
  const errors: FormError[] = [];
  if (login === '')
    errors.push({
      field: 'login',
      message: website.settings.localLoginByEmail ? 'Enter your email.' : 'Enter your username.',
    });
  if (password === '') errors.push({ field: 'password', message: 'Enter your password.' });
  if (errors.length > 0) return { errors };
  const contact = await authenticate(deps, website.settings, login, password);
  if (!contact)
    return {
      errors: [
        {
          field: 'login',
          message: `The ${website.settings.localLoginByEmail ? 'email' : 'username'} or password is not right.`,
        },
      ],
    };
  return { contact };
}

/** The signed-in contact redeems the pending invitation (the invited-contact check is the domain's). */
export async function redeemSignedIn(
  deps: Deps,
  website: Website,
  contact: ContactRow,
  pending: CodeRef,
  client: Client,
): Promise<void> {
  await redeemInvitation(deps, {
    websiteId: website.id,
    code: pending,
    redeemer: { kind: 'contact', contactId: contact.id, method: 'signin', row: contact },
    ipAddress: client.ip,
    userAgent: client.userAgent,
  });
}

export interface ProfileForm {
  firstName: string;
  lastName: string;
  email: string;
}

export async function saveProfile(
  deps: Deps,
  website: Website,
  contact: ContactRow,
  form: ProfileForm,
  client: Client,
): Promise<{ errors: FormError[] } | { contact: ContactRow; emailChanged: boolean }> {
  const errors: FormError[] = [];
  if (!NAME.test(form.firstName))
    errors.push({ field: 'firstName', message: 'Enter your first name (up to 100 characters).' });
  if (!NAME.test(form.lastName))
    errors.push({ field: 'lastName', message: 'Enter your last name (up to 100 characters).' });
  const e = emailProblem(form.email);
  if (e) errors.push({ field: 'email', message: e });
  if (errors.length > 0) return { errors };
  const { emailChanged } = await deps.db
    .transaction()
    .execute((trx) => updateProfile(trx, deps, website.settings, contact, form, client.ip));
  const updated = (await findContactRow(deps.db, contact.id)) as ContactRow;
  if (emailChanged) await sendConfirmation(deps, website, updated);
  return { contact: updated, emailChanged };
}

/** Sends a reset link when a contact who can sign in has this email; says nothing either way. */
export async function forgotPassword(
  deps: Deps,
  website: Website,
  email: string,
): Promise<{ errors: FormError[] } | { sent: true }> {
  const e = emailProblem(email);
  if (e) return { errors: [{ field: 'email', message: e }] };
  const contact = (await findContactsByEmail(deps.db, email)).find((c) => c.loginEnabled);
  if (contact?.email) await mailToken(deps, website, contact, 'reset-password', contact.email);
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
  if (!(await isTokenValid(deps, website, token, 'reset-password'))) return { invalid: true };
  const p = form.password === '' ? 'Enter a password.' : await passwordProblem(form.password);
  if (p) return { errors: [{ field: 'password', message: p }] };
  if (form.password !== form.confirmPassword)
    return { errors: [{ field: 'confirmPassword', message: 'The passwords do not match.' }] };
  const passwordHash = await hashPassword(form.password);
  const contactId = await deps.db.transaction().execute(async (trx) => {
    const t = await findValidToken(trx, deps, token, 'reset-password', website.id);
    if (!t || !(await spendToken(trx, t.id, deps.now().toISOString()))) return null;
    await setPassword(trx, t.contactId, passwordHash);
    await signOutEverywhere(trx, t.contactId);
    await recordAudit(
      trx,
      deps,
      { type: 'contact', id: t.contactId, ip: client.ip },
      'contact.password_reset',
      { type: 'contact', id: t.contactId },
      {},
    );
    return t.contactId;
  });
  return contactId ? { done: true } : { invalid: true };
}

/** Confirms the email a confirmation token was sent to (once), if it is still the contact's. */
export async function confirmEmailToken(deps: Deps, website: Website, token: string): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const t = await findValidToken(trx, deps, token, 'confirm-email', website.id);
    const at = deps.now().toISOString();
    if (!t?.email || !(await spendToken(trx, t.id, at))) return false;
    return confirmEmail(trx, t.contactId, t.email, at);
  });
}
