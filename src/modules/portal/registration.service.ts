import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { checkAccountLimit, countAccountAttempt } from '../../http/rate-limit.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../../passwords.ts';
import { type Contact, findContact, registerContact } from '../contacts/contact.ts';
import { recordAudit } from '../events/event.ts';
import {
  type CodeRef,
  ConfirmationRequired,
  findHeldRegistration,
  type HeldRegistration,
  holdRegistration,
  redeemInvitation,
} from '../invitations/invitation.ts';
import type { Website } from '../websites/website.ts';
import { type Client, emailProblem, type FormError } from './portal.context.ts';
import { mailToken, queueContactEmail } from './portal.mail.ts';

/**
 * Registration on the portal (SPEC 5): with the pending invitation (redeemed in the same step, or
 * held until an inbox is proven) or, without one, by open registration. Routes validate nothing
 * themselves: each use case returns form errors in words, or throws an AppError the portal's pages
 * know (INVITATION_NOT_REDEEMABLE, ACCOUNT_EXISTS, RATE_LIMITED).
 */
const USERNAME = /^[A-Za-z0-9._@+-]{3,100}$/;

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
  const p =
    f.password === ''
      ? 'Enter a password.'
      : await passwordProblem(f.password, {
          username: website.settings.localLoginByEmail ? null : f.username,
          email: f.email,
          websiteName: website.name,
        });
  if (p) errors.push({ field: 'password', message: p });
  else if (f.password !== f.confirmPassword)
    errors.push({ field: 'confirmPassword', message: 'The passwords do not match.' });
  return errors;
}

export type Registration =
  | { errors: FormError[] }
  /** Registered and signed in; `redeemed` when through the pending invitation. */
  | { contact: Contact; redeemed: boolean }
  /** Held until the link mailed to `email` is followed: nothing granted yet. */
  | { held: { email: string } };

/**
 * Registers. The password is hashed before any transaction. With an invitation whose rules ask for
 * a proven inbox first (redemption.service.ts ConfirmationRequired), the registration is held and a
 * confirmation link mailed; an unconfirmed email of a registered contact gets a confirmation email.
 */
export async function register(
  deps: Deps,
  website: Website,
  form: RegistrationForm,
  pending: CodeRef | null,
  client: Client,
): Promise<Registration> {
  const errors = await registrationErrors(website, form);
  if (errors.length > 0) return { errors };
  const passwordHash = await hashPassword(form.password);
  const username = website.settings.localLoginByEmail ? null : form.username;
  if (!pending) {
    const contact = await registerContact(deps, website, {
      email: form.email,
      username,
      passwordHash,
      ip: client.ip,
    });
    await confirmationIfNeeded(deps, website, contact);
    return { contact, redeemed: false };
  }
  try {
    const r = await redeemInvitation(deps, {
      websiteId: website.id,
      code: pending,
      redeemer: { kind: 'register', email: form.email, username, passwordHash },
      ipAddress: client.ip,
      userAgent: client.userAgent,
    });
    const contact = (await findContact(deps.db, r.contactId)) as Contact;
    await confirmationIfNeeded(deps, website, contact);
    return { contact, redeemed: true };
  } catch (err) {
    if (err instanceof ConfirmationRequired) {
      await holdAndMail(deps, website, {
        invitationId: err.invitationId,
        codeHash: pending.codeHash,
        contactId: err.contactId,
        claimedEmail: err.claimedEmail,
        email: err.email,
        username,
        passwordHash,
        client,
      });
      return { held: { email: err.email } };
    }
    if (
      err instanceof AppError &&
      (err.code === 'INVITATION_EMAIL_REQUIRED' || err.code === 'INVITATION_FOR_INVITED_ONLY')
    )
      return { errors: [{ field: 'email', message: err.detail }] };
    throw err;
  }
}

async function confirmationIfNeeded(deps: Deps, website: Website, contact: Contact): Promise<void> {
  if (contact.emailConfirmed || !website.settings.emailConfirmationEnabled || !contact.email) return;
  await mailToken(deps, website, contact, 'confirm-email', contact.email);
}

/**
 * Holds the registration and queues its confirmation link, in one transaction. The links sent to one
 * address count against its per-recipient limit (RATE_LIMITED, nothing held), so a stranger cannot
 * flood an invited person's inbox.
 */
async function holdAndMail(
  deps: Deps,
  website: Website,
  h: Omit<HeldRegistration, 'id' | 'websiteId'> & { client: Client },
): Promise<void> {
  await checkAccountLimit(deps, 'mail', h.email, null);
  await countAccountAttempt(deps, 'mail', h.email, null);
  await deps.db.transaction().execute(async (trx) => {
    const { client, ...held } = h;
    const id = await holdRegistration(trx, deps, { ...held, websiteId: website.id });
    await recordAudit(
      trx,
      deps,
      { type: 'contact', id: null, ip: client.ip },
      'invitation.registration_held',
      { type: 'invitation', id: h.invitationId },
      { contactId: h.contactId, heldRegistrationId: id },
    );
    await queueContactEmail(trx, deps, {
      contactId: h.contactId,
      to: h.email,
      kind: 'confirm-registration',
      tokenId: id,
    });
  });
  deps.notifyJobs();
}

/** The email a held registration's link confirms, while the link works; else null. */
export const heldRegistrationEmail = async (deps: Deps, website: Website, token: string) =>
  (await findHeldRegistration(deps.db, deps, token, website.id))?.email ?? null;

export type Completion =
  | { contact: Contact }
  | { errors: FormError[] }
  /** The link is not valid (unknown, used, expired, another website). */
  | { invalid: true };

/**
 * Completes a held registration: its link proves the inbox, and the password chosen at registration
 * proves the person who followed it is the one who registered (so a stranger who typed someone
 * else's email cannot have that person confirm the stranger's password). Redeems the invitation,
 * once however often the link is followed; throws INVITATION_NOT_REDEEMABLE or ACCOUNT_EXISTS.
 */
export async function completeHeldRegistration(
  deps: Deps,
  website: Website,
  token: string,
  password: string,
  client: Client,
): Promise<Completion> {
  const held = await findHeldRegistration(deps.db, deps, token, website.id);
  if (!held) return { invalid: true };
  if (password === '') return { errors: [{ field: 'password', message: 'Enter the password you chose.' }] };
  if (!(await verifyPassword(held.passwordHash, password)))
    return {
      errors: [{ field: 'password', message: 'That is not the password you chose when you registered.' }],
    };
  const r = await redeemInvitation(deps, {
    websiteId: website.id,
    code: { codeHash: held.codeHash },
    redeemer: {
      kind: 'register',
      email: held.email,
      username: held.username,
      passwordHash: held.passwordHash,
      held: { id: held.id, contactId: held.contactId, claimedEmail: held.claimedEmail },
    },
    ipAddress: client.ip,
    userAgent: client.userAgent,
  });
  return { contact: (await findContact(deps.db, r.contactId)) as Contact };
}
