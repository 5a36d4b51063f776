import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { uniqueOr } from '../../db/dialect.ts';
import { runWrites, WriteExpectationFailed } from '../../db/write-batch.ts';
import { AppError, notRedeemable } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { redemptionAttempts } from '../../metrics.ts';
import { type Contact, findContact, findRegistrationContacts } from '../contacts/contact.ts';
import { getWebsiteSettings, type WebsiteSettings } from '../websites/website.ts';
import { codeHash } from './invitation.code.ts';
import type { CodeRef } from './invitation.lookup.ts';
import { recordRefusal } from './invitation.refusals.ts';
import * as repo from './invitation.repository.ts';
import { contactRefusalOf, type Refusal, refusalOf } from './invitation.rules.ts';
import { redemptionWrites } from './redemption.writes.ts';

/**
 * Redemption (SPEC 5): the one use case the portal calls when an invitee redeems a code.
 *
 * 1. Find the invitation the code names, and refuse it unless it can be redeemed now on this
 *    website (the database's clock decides expiry on PostgreSQL).
 * 2. Decide who redeems: the signed-in contact (who must be one the invitation is for), or a
 *    registrant, whose credentials go on the invited contact or a new one, and who must first prove
 *    an inbox by email where the invitation does not already prove it (ConfirmationRequired).
 * 3. Write it all in one batch, all or nothing (redemption.writes.ts): the redeemed contact, the slot,
 *    the account, web roles and portal access, the Invite Redemption activity, the audit event, and
 *    the jobs of the workflow and the integrators' events.
 *
 * Every reason a code cannot be used is the one INVITATION_NOT_REDEEMABLE; a refused attempt on an
 * existing invitation is recorded (invitation.refusals.ts). ACCOUNT_EXISTS (a registrant whose email
 * or username already signs in) is distinct: the portal sends that person to sign in instead.
 * Password hashing happens before, outside any transaction.
 */

/**
 * Who redeems: a contact who is already signed in (or signs in with a linked provider), a
 * registrant creating credentials, or a person coming through an identity provider for the first
 * time.
 */
export type Redeemer =
  | {
      kind: 'contact';
      contactId: string;
      method: 'signin' | 'external';
      /**
       * A provider's identity to link to the contact in the redemption (method `external`): the
       * provider proved the address a Single invitation was sent to, and the contact confirmed.
       */
      link?: ExternalIdentity;
      /** The contact's row when the caller has just read it (the portal, with the session). */
      row?: Contact;
    }
  | {
      kind: 'external';
      /** A provider's identity linked to no contact yet (a linked one redeems as `contact`). */
      identity: ExternalIdentity;
    }
  | {
      kind: 'register';
      email: string;
      /** Null when the website signs in by email. */
      username: string | null;
      /** argon2id hash, computed by the caller before this call. */
      passwordHash: string;
      firstName?: string;
      lastName?: string;
      /**
       * A held registration whose email has now been confirmed (held-registration.ts): spent in the
       * same batch; `contactId` is the invited contact it claims (null: a new contact), whose primary
       * email must still be `claimedEmail`.
       */
      held?: { id: string; contactId: string | null; claimedEmail: string | null };
    };

/** What an identity provider said of the person, its ID token validated (identity/oidc.client.ts). */
export interface ExternalIdentity {
  providerId: string;
  subject: string;
  email: string | null;
  /** The provider says `email` is verified, and the website trusts it to (trustEmailVerified). */
  emailVerified: boolean;
  firstName: string;
  lastName: string;
}

/**
 * A Single invitation redeemed through an identity provider whose verified email is not the invited
 * contact's primary email (or who verified none): nothing was written. The hints show each address
 * masked, so the page names neither in full.
 */
export class ExternalEmailMismatch extends AppError {
  constructor(
    readonly invitedHint: string | null,
    readonly providerHint: string | null,
  ) {
    super(
      'EXTERNAL_EMAIL_MISMATCH',
      'The identity provider did not confirm the address the invitation was sent to.',
    );
  }
}

/**
 * The provider proved the primary email of an invited contact who can already sign in (on another
 * website, or with a password): that contact confirms the redemption, as after a sign-in, and the
 * provider is linked to it then. Never a link without that confirmation.
 */
export class ExistingContactProven extends Error {
  constructor(readonly contactId: string) {
    super('an invited contact who can sign in was proven by the provider');
  }
}

/** `jane.doe@contoso.com` as `j•••@contoso.com`. */
export const maskEmail = (email: string | null): string | null => {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  return at < 1 ? '•••' : `${email[0]}•••${email.slice(at)}`;
};

export interface RedeemInput {
  websiteId: string;
  /** The code as typed, or the reference the portal kept of it (its keyed hash). */
  code: string | CodeRef;
  redeemer: Redeemer;
  ipAddress: string | null;
  userAgent: string | null;
}

export interface RedeemResult {
  invitationId: string;
  contactId: string;
  redemptionId: string;
  /** True when this redemption created the contact (a Group registrant nobody had invited). */
  contactCreated: boolean;
  /** False when the registrant's email must still be confirmed. */
  emailConfirmed: boolean;
}

/**
 * The registrant must prove an inbox before anything is granted: a Single invitation registered
 * under another email (the website allows it), or a Group registrant whose email is an invited
 * contact's. Nothing was written; the caller holds the registration and mails a confirmation link.
 */
export class ConfirmationRequired extends Error {
  constructor(
    readonly invitationId: string,
    /** The invited contact the registration claims. */
    readonly contactId: string,
    /** The address whose inbox must be proven (as the contact has it, when it is the contact's). */
    readonly email: string,
    /** The contact's primary email now (null: none), which completing requires unchanged. */
    readonly claimedEmail: string | null,
  ) {
    super('the registrant must confirm the email before the invitation is redeemed');
  }
}

/** Inside the use case: the attempt is refused, for this reason. */
class Refused extends Error {
  constructor(
    readonly reason: Refusal,
    readonly invitationId: string | null,
  ) {
    super(`refused: ${reason}`);
  }
}

export async function redeemInvitation(deps: Deps, input: RedeemInput): Promise<RedeemResult> {
  const hash = typeof input.code === 'string' ? codeHash(deps.keys, input.code) : input.code.codeHash;
  if (hash === null) throw notRedeemable();
  // The website's settings, read before the transaction (from a cache of at most a second): on
  // SQLite the one connection belongs to the transaction once it begins.
  // A website that does not exist is one more reason a code is not redeemable; any other failure
  // (the database) stays what it is.
  const settings = await getWebsiteSettings(deps, input.websiteId).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'NOT_FOUND') throw notRedeemable();
    throw err;
  });
  try {
    // A signed-in contact's redemption changes nothing it reads: its reads need no transaction, and
    // its writes are one batch, all or nothing by itself (one statement on PostgreSQL).
    const redeemed =
      input.redeemer.kind === 'contact'
        ? await redeemIn(deps.db, deps, hash, input, settings)
        : // Two registrants racing for one username: the unique index decides, the loser is told to sign in.
          await uniqueOr(
            () => deps.db.transaction().execute((trx) => redeemIn(trx, deps, hash, input, settings)),
            accountExists,
          );
    redemptionAttempts.inc({ outcome: 'redeemed' });
    return redeemed;
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    redemptionAttempts.inc({ outcome: err.reason });
    if (err.invitationId)
      await recordRefusal(deps, { invitationId: err.invitationId, reason: err.reason }, actorOf(input));
    throw notRedeemable();
  }
}

const actorOf = (input: RedeemInput): Actor => ({
  type: 'contact',
  id: input.redeemer.kind === 'contact' ? input.redeemer.contactId : null,
  ip: input.ipAddress,
});

const accountExists = () =>
  new AppError(
    'ACCOUNT_EXISTS',
    'An account already exists for this email or username. Sign in to redeem the invitation.',
  );

async function redeemIn(
  conn: Conn,
  deps: Deps,
  hash: string,
  input: RedeemInput,
  settings: WebsiteSettings,
): Promise<RedeemResult> {
  const at = deps.now().toISOString();
  // A registrant (in a transaction) locks the invitation first: concurrent registrations on one
  // invitation take turns, and each sees the one before it. Signed-in contacts need no such lock
  // (they read no other contact); their batch's slot update holds the row only for its one statement.
  const found = await repo.findByCodeHashWithRelations(conn, hash, at, {
    lock: input.redeemer.kind !== 'contact',
  });
  if (!found) throw new Refused('unknown', null);
  const { invitation, relations } = found;
  const refusal = invitation.websiteId !== input.websiteId ? 'other-website' : refusalOf(invitation);
  if (refusal) throw new Refused(refusal, invitation.id);

  const r = input.redeemer;
  const who =
    r.kind === 'contact'
      ? await signedInContact(conn, invitation, relations, settings, r)
      : r.kind === 'external'
        ? await externalRegistrant(conn, invitation, relations, settings, r.identity, at)
        : await registrant(conn, invitation, relations, settings, r, at);

  const redemptionId = newId();
  const linked = r.kind === 'external' ? r.identity : r.kind === 'contact' ? (r.link ?? null) : null;
  try {
    await runWrites(
      conn,
      redemptionWrites(conn, deps, {
        invitation,
        webRoleIds: relations.webRoleIds,
        contact: who.contact,
        contactCreated: who.created,
        registration:
          r.kind === 'register'
            ? { passwordHash: r.passwordHash, heldId: r.held?.id ?? null }
            : r.kind === 'external'
              ? { heldId: null }
              : null,
        link: linked
          ? { id: newId(), providerId: linked.providerId, subject: linked.subject, email: linked.email }
          : null,
        identityProviderId: linked?.providerId ?? null,
        redemptionId,
        method: who.method,
        username: who.username,
        ipAddress: input.ipAddress,
        userAgent: input.userAgent,
        at,
      }),
    );
  } catch (err) {
    // Concurrent attempts took the last place, or this contact (or this link) already redeemed it.
    if (err instanceof WriteExpectationFailed) throw new Refused('lost-race', invitation.id);
    throw err;
  }
  return {
    invitationId: invitation.id,
    contactId: who.contact.id,
    redemptionId,
    contactCreated: who.created,
    emailConfirmed: who.contact.emailConfirmed,
  };
}

interface Resolved {
  contact: Contact;
  created: boolean;
  method: 'register' | 'signin' | 'external';
  username: string | null;
}

/** A signed-in contact: one the invitation is for (contactRefusalOf), who has not redeemed it. */
async function signedInContact(
  conn: Conn,
  invitation: repo.RedeemableRow,
  relations: repo.Relations,
  settings: WebsiteSettings,
  redeemer: Extract<Redeemer, { kind: 'contact' }>,
): Promise<Resolved> {
  const contact =
    redeemer.row?.id === redeemer.contactId ? redeemer.row : await findContact(conn, redeemer.contactId);
  if (!contact?.loginEnabled) throw new Refused('not-invited', invitation.id);
  const refusal = contactRefusalOf(invitation, relations, contact.id, settings);
  if (refusal) throw new Refused(refusal, invitation.id);
  return { contact, created: false, method: redeemer.method, username: contact.username ?? contact.email };
}

/**
 * A registrant. Single: the credentials go on the invited contact (no duplicate contact), under its
 * primary email, which the code proves; another email (where the website allows it) must be
 * confirmed first. Group: an invited contact's record is used only after its inbox is confirmed;
 * otherwise the registrant becomes a new contact with an unconfirmed email, unless the invitation is
 * for its invited contacts only. A held registration, once confirmed, lands where it was held for.
 */
async function registrant(
  trx: Conn,
  invitation: repo.RedeemableRow,
  relations: repo.Relations,
  settings: WebsiteSettings,
  r: Extract<Redeemer, { kind: 'register' }>,
  at: string,
): Promise<Resolved> {
  const email = r.email.trim();
  const emailKey = email.toLowerCase();
  const claimedId = r.held
    ? r.held.contactId
    : invitation.type === 'single'
      ? (relations.invitedContactIds[0] ?? null)
      : null;
  const found = await findRegistrationContacts(trx, { email: emailKey, id: claimedId, username: r.username });
  const sameEmail = found.filter((c) => c.email?.toLowerCase() === emailKey);
  const unredeemedInvitee = (c: Contact) =>
    relations.invitedContactIds.includes(c.id) && !relations.redeemedContactIds.includes(c.id);

  let target: Contact | undefined;
  if (claimedId !== null) {
    target = found.find((c) => c.id === claimedId);
    if (!target || !unredeemedInvitee(target)) throw new Refused('not-invited', invitation.id);
    // An administrator changed the claimed contact's email since the registration was held.
    if (r.held && (target.email?.toLowerCase() ?? null) !== (r.held.claimedEmail?.toLowerCase() ?? null))
      throw new Refused('not-invited', invitation.id);
  } else if (!r.held) {
    target = sameEmail.find((c) => unredeemedInvitee(c) && !c.loginEnabled);
  }
  if (target?.loginEnabled) throw accountExists();
  // An address belongs to the contact that confirmed it: an unconfirmed copy (someone who typed
  // it) blocks nobody.
  const owner = sameEmail.find((c) => c.loginEnabled && c.emailConfirmed && c.id !== target?.id);
  if (settings.requireUniqueEmail && owner) throw accountExists();
  const username = r.username?.toLowerCase();
  if (
    username !== undefined &&
    found.some((c) => c.username?.toLowerCase() === username && c.id !== target?.id)
  )
    throw accountExists();

  const invitedEmailKept = invitation.type === 'single' && target?.email?.toLowerCase() === emailKey;
  if (!r.held) {
    if (invitation.type === 'single' && target && !invitedEmailKept) {
      if (target.email && !settings.invitationEmailChangeAllowed)
        throw new AppError(
          'INVITATION_EMAIL_REQUIRED',
          'Register with the email address this invitation was sent to.',
        );
      throw new ConfirmationRequired(invitation.id, target.id, email, target.email);
    }
    if (invitation.type === 'group' && target)
      throw new ConfirmationRequired(invitation.id, target.id, target.email ?? email, target.email);
    if (invitation.type === 'group' && invitation.invitedContactsOnly)
      throw new AppError(
        'INVITATION_FOR_INVITED_ONLY',
        'This invitation is only for the people it was sent to. Register with the email address your invitation was sent to.',
      );
  }

  const contact: Contact = target
    ? { ...target }
    : {
        id: newId(),
        firstName: r.firstName ?? '',
        lastName: r.lastName ?? '',
        email: null,
        email2: null,
        email3: null,
        parentAccountId: null,
        username: null,
        loginEnabled: false,
        emailConfirmed: false,
        lastSignInAt: null,
        pendingEmail: null,
        createdAt: at,
        updatedAt: at,
      };
  contact.email = email;
  contact.pendingEmail = null;
  contact.username = r.username;
  contact.loginEnabled = true;
  contact.emailConfirmed = invitedEmailKept || r.held !== undefined;
  if (r.firstName) contact.firstName = r.firstName;
  if (r.lastName) contact.lastName = r.lastName;
  contact.updatedAt = at;
  return { contact, created: target === undefined, method: 'register', username: r.username ?? email };
}

/**
 * A person coming through an identity provider, its subject linked to nobody yet. A provider's email
 * counts only when verified (ExternalIdentity.emailVerified), and it never links an existing account
 * by itself: a contact who can already sign in must sign in and link the provider from the profile
 * (ACCOUNT_EXISTS). Single: the verified email must be the invited contact's primary email
 * (ExternalEmailMismatch otherwise); the subject is linked to that contact. Group: an invited
 * contact who has not redeemed is used only when the verified email is its primary email;
 * otherwise a new contact, unless the invitation is for its invited contacts only.
 */
async function externalRegistrant(
  trx: Conn,
  invitation: repo.RedeemableRow,
  relations: repo.Relations,
  settings: WebsiteSettings,
  identity: ExternalIdentity,
  at: string,
): Promise<Resolved> {
  const email = identity.email?.trim() || null;
  const verified = identity.emailVerified && email ? email.toLowerCase() : null;
  const invitedId = invitation.type === 'single' ? (relations.invitedContactIds[0] ?? null) : null;
  const found = await findRegistrationContacts(trx, { email: email ?? '', id: invitedId, username: null });
  const unredeemedInvitee = (c: Contact) =>
    relations.invitedContactIds.includes(c.id) && !relations.redeemedContactIds.includes(c.id);

  let target: Contact | undefined;
  if (invitation.type === 'single') {
    target = found.find((c) => c.id === invitedId);
    if (!target || !unredeemedInvitee(target)) throw new Refused('not-invited', invitation.id);
    if (verified === null || target.email?.toLowerCase() !== verified)
      throw new ExternalEmailMismatch(maskEmail(target.email), maskEmail(verified));
  } else if (verified !== null) {
    target = found.find((c) => c.email?.toLowerCase() === verified && unredeemedInvitee(c));
  }
  // The code and the provider's verified address both prove the invited contact's inbox.
  if (target?.loginEnabled) throw new ExistingContactProven(target.id);
  if (!target && invitation.type === 'group' && invitation.invitedContactsOnly)
    throw new AppError(
      'INVITATION_FOR_INVITED_ONLY',
      'This invitation is only for the people it was sent to, and your identity provider did not confirm one of their addresses.',
    );
  const owner = found.find(
    (c) =>
      c.loginEnabled &&
      c.emailConfirmed &&
      c.id !== target?.id &&
      c.email?.toLowerCase() === email?.toLowerCase(),
  );
  if (settings.requireUniqueEmail && owner) throw accountExists();

  const contact: Contact = target
    ? { ...target }
    : {
        id: newId(),
        firstName: '',
        lastName: '',
        email,
        email2: null,
        email3: null,
        parentAccountId: null,
        username: null,
        loginEnabled: false,
        emailConfirmed: verified !== null,
        lastSignInAt: null,
        pendingEmail: null,
        createdAt: at,
        updatedAt: at,
      };
  contact.loginEnabled = true;
  if (target) contact.emailConfirmed = true;
  if (!contact.firstName) contact.firstName = identity.firstName.slice(0, 100);
  if (!contact.lastName) contact.lastName = identity.lastName.slice(0, 100);
  contact.updatedAt = at;
  return { contact, created: target === undefined, method: 'external', username: contact.email };
}
