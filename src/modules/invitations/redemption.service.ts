import type { Deps } from '../../context.ts';
import { type Conn, uniqueOr } from '../../db/database.ts';
import { AppError, notRedeemable } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { enqueue, type JobRequest } from '../../jobs/enqueue.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import {
  findContactByUsername,
  findContactRow,
  findContactsByEmail,
  grantToContact,
  saveContactRow,
} from '../contacts/contact.service.ts';
import { recordAudit } from '../events/audit.service.ts';
import { getWebsiteSettings } from '../websites/website.service.ts';
import type { WebsiteSettings } from '../websites/website.settings.ts';
import { codeHash } from './invitation.code.ts';
import type { InvitationRow } from './invitation.repository.ts';
import * as repo from './invitation.repository.ts';
import { isRedeemable } from './invitation.rules.ts';

/**
 * Redemption (SPEC 5): the one use case the portal calls when an invitee redeems a code.
 *
 * Everything happens in one transaction, all or nothing: resolve the contact (create it, or give the
 * invited contact its credentials), record the redeemed contact (unique per invitation), take a slot
 * with a conditional update (active, unexpired, below the maximum), grant the account and web roles,
 * write the Invite Redemption activity and the audit event, and enqueue the redemption workflow and
 * the `invitation.redeemed` event. Password hashing happens before, outside the transaction.
 *
 * Every reason a code cannot be used (unknown, malformed, expired, used up, inactive, other website,
 * not the invited contact, already redeemed by this contact) is the one INVITATION_NOT_REDEEMABLE.
 * ACCOUNT_EXISTS (a registrant whose email or username already signs in) is distinct: the portal
 * sends that person to sign in instead.
 */

/** Who redeems: a contact who is already signed in, or a registrant creating credentials. */
export type Redeemer =
  | { kind: 'contact'; contactId: string; method: 'signin' | 'external' }
  | {
      kind: 'register';
      email: string;
      /** Null when the website signs in by email. */
      username: string | null;
      /** argon2id hash, computed by the caller before this call. */
      passwordHash: string;
      firstName?: string;
      lastName?: string;
    };

export interface RedeemInput {
  websiteId: string;
  code: string;
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

const MAX_USER_AGENT = 512;

export async function redeemInvitation(deps: Deps, input: RedeemInput): Promise<RedeemResult> {
  const hash = codeHash(deps.keys, input.code);
  if (hash === null) throw notRedeemable();
  // The website's settings, read before the transaction (from a cache of at most a second): on
  // SQLite the one connection belongs to the transaction once it begins.
  // A website that does not exist is one more reason a code is not redeemable; any other failure
  // (the database) stays what it is.
  const settings = await getWebsiteSettings(deps, input.websiteId).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'NOT_FOUND') throw notRedeemable();
    throw err;
  });
  // Two registrants racing for one username: the unique index decides, the loser is told to sign in.
  return uniqueOr(
    () => deps.db.transaction().execute((trx) => redeemIn(trx, deps, hash, input, settings)),
    accountExists,
  );
}

const accountExists = () =>
  new AppError(
    'ACCOUNT_EXISTS',
    'An account already exists for this email or username. Sign in to redeem the invitation.',
  );

async function redeemIn(
  trx: Conn,
  deps: Deps,
  hash: string,
  input: RedeemInput,
  settings: WebsiteSettings,
): Promise<RedeemResult> {
  const now = deps.now();
  const at = now.toISOString();
  // A registrant locks the invitation first: concurrent registrations on one invitation take turns,
  // and each sees the one before it (on PostgreSQL a registrant could otherwise see the invited
  // contact already registered by a concurrent winner while still seeing the invitation unredeemed,
  // and be told ACCOUNT_EXISTS). Signed-in contacts need no such lock (they read no other contact),
  // so they hold the invitation's row only from the slot update, the last statement, to the commit.
  const invitation = await repo.findInvitationByCodeHash(trx, hash, {
    lock: input.redeemer.kind === 'register',
  });
  if (!invitation || invitation.websiteId !== input.websiteId || !isRedeemable(invitation, now))
    throw notRedeemable();
  const relations = (await repo.findRelations(trx, [invitation.id])).get(invitation.id) as repo.Relations;

  const { contact, created, method, username } =
    input.redeemer.kind === 'contact'
      ? await signedInContact(trx, invitation, relations, settings, input.redeemer)
      : await registrant(trx, invitation, relations, settings, input.redeemer, at);
  if (relations.redeemedContactIds.includes(contact.id)) throw notRedeemable();

  if (input.redeemer.kind === 'register') {
    await saveContactRow(trx, contact, { isNew: created, passwordHash: input.redeemer.passwordHash });
  }
  if (!(await repo.insertRedeemedContact(trx, invitation.id, contact.id, at))) throw notRedeemable();

  const webRoleIds = relations.webRoleIds;
  await grantToContact(trx, contact.id, { accountId: invitation.assignToAccountId, webRoleIds, at });
  const redemptionId = newId();
  await repo.insertInviteRedemption(trx, {
    id: redemptionId,
    invitationId: invitation.id,
    contactId: contact.id,
    username,
    method,
    ipAddress: input.ipAddress,
    userAgent: input.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
    createdAt: at,
  });
  const actor = { type: 'contact' as const, id: contact.id, ip: input.ipAddress };
  await recordAudit(
    trx,
    deps,
    actor,
    'invitation.redeemed',
    { type: 'invitation', id: invitation.id },
    {
      contactId: contact.id,
      method,
      redemptionId,
      assignedAccountId: invitation.assignToAccountId,
      webRoleIds,
    },
  );

  const jobs: JobRequest[] = [
    {
      type: 'event.publish',
      payload: {
        event: 'invitation.redeemed',
        invitationId: invitation.id,
        contactId: contact.id,
        redemptionId,
      },
    },
  ];
  if (created || input.redeemer.kind === 'register') {
    jobs.push({
      type: 'event.publish',
      payload: { event: 'contact.registered', contactId: contact.id, invitationId: invitation.id },
    });
  }
  if (invitation.redemptionWorkflowId) {
    jobs.push({
      type: 'workflow.run',
      payload: {
        workflowId: invitation.redemptionWorkflowId,
        contactId: contact.id,
        invitationId: invitation.id,
      },
    });
  }
  await enqueue(trx, now, jobs);
  // The slot last: it decides (a used-up invitation rolls all of the above back) and it locks the
  // invitation's row, which concurrent redemptions of the same code wait for, so that lock is held
  // from here to the commit only, not across the statements above.
  if (!(await repo.claimRedemptionSlot(trx, invitation.id, at))) throw notRedeemable();
  return {
    invitationId: invitation.id,
    contactId: contact.id,
    redemptionId,
    contactCreated: created,
    emailConfirmed: contact.emailConfirmed,
  };
}

interface Resolved {
  contact: ContactRow;
  created: boolean;
  method: 'register' | 'signin' | 'external';
  username: string | null;
}

/** A signed-in contact: for a Single invitation, the invited one (unless the website allows others). */
async function signedInContact(
  trx: Conn,
  invitation: InvitationRow,
  relations: repo.Relations,
  settings: WebsiteSettings,
  redeemer: Extract<Redeemer, { kind: 'contact' }>,
): Promise<Resolved> {
  const contact = await findContactRow(trx, redeemer.contactId);
  if (!contact?.loginEnabled) throw notRedeemable();
  if (
    invitation.type === 'single' &&
    !relations.invitedContactIds.includes(contact.id) &&
    !settings.redeemByOtherContactAllowed
  ) {
    throw notRedeemable();
  }
  return { contact, created: false, method: redeemer.method, username: contact.username ?? contact.email };
}

/**
 * A registrant. Single: the credentials go on the invited contact (no duplicate contact). Group: on
 * the invited, not yet redeemed contact whose primary email matches, else on a new contact. The
 * email counts as confirmed only when it is the invited contact's own primary email on a Single
 * invitation (the code proves that inbox); anything else must be confirmed by email.
 */
async function registrant(
  trx: Conn,
  invitation: InvitationRow,
  relations: repo.Relations,
  settings: WebsiteSettings,
  r: Extract<Redeemer, { kind: 'register' }>,
  at: string,
): Promise<Resolved> {
  const email = r.email.trim();
  const emailKey = email.toLowerCase();
  const sameEmail = await findContactsByEmail(trx, emailKey);

  let target: ContactRow | undefined;
  if (invitation.type === 'single') {
    target = await findContactRow(trx, relations.invitedContactIds[0] as string);
    if (!target) throw notRedeemable();
  } else {
    target = sameEmail.find(
      (c) =>
        relations.invitedContactIds.includes(c.id) &&
        !relations.redeemedContactIds.includes(c.id) &&
        !c.loginEnabled,
    );
  }
  if (target?.loginEnabled) throw accountExists();
  if (settings.requireUniqueEmail && sameEmail.some((c) => c.loginEnabled && c.id !== target?.id))
    throw accountExists();
  if (r.username !== null) {
    const holder = await findContactByUsername(trx, r.username);
    if (holder && holder.id !== target?.id) throw accountExists();
  }

  const keptInvitedEmail = invitation.type === 'single' && target?.email?.toLowerCase() === emailKey;
  const contact: ContactRow = target
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
        createdAt: at,
        updatedAt: at,
      };
  contact.email = email;
  contact.username = r.username;
  contact.loginEnabled = true;
  contact.emailConfirmed = keptInvitedEmail;
  if (r.firstName) contact.firstName = r.firstName;
  if (r.lastName) contact.lastName = r.lastName;
  contact.updatedAt = at;
  return { contact, created: target === undefined, method: 'register', username: r.username ?? email };
}
