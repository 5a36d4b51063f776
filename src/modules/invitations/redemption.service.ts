import type { Deps } from '../../context.ts';
import { type Conn, uniqueOr } from '../../db/database.ts';
import { runWrites, WriteExpectationFailed } from '../../db/write-batch.ts';
import { AppError, notRedeemable } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { enqueueWrites, type JobRequest } from '../../jobs/enqueue.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import {
  findContactRow,
  findRegistrationContacts,
  grantWrites,
  saveContactWrite,
} from '../contacts/contact.service.ts';
import { auditWrites } from '../events/audit.service.ts';
import { getWebsiteSettings } from '../websites/website.service.ts';
import type { WebsiteSettings } from '../websites/website.settings.ts';
import { codeHash } from './invitation.code.ts';
import type { CodeRef } from './invitation.lookup.ts';
import type { InvitationRow } from './invitation.repository.ts';
import * as repo from './invitation.repository.ts';
import { isRedeemable } from './invitation.rules.ts';

/**
 * Redemption (SPEC 5): the one use case the portal calls when an invitee redeems a code.
 *
 * All or nothing: resolve the contact (create it, or give the invited contact its credentials),
 * record the redeemed contact (unique per invitation), take a slot with a conditional update (active,
 * unexpired, below the maximum), grant the account and web roles, write the Invite Redemption
 * activity and the audit event, and enqueue the redemption workflow and the `invitation.redeemed`
 * event. A registrant's redemption is one transaction; a signed-in contact's is one write batch
 * (one statement on PostgreSQL). Password hashing happens before, outside any transaction.
 *
 * Every reason a code cannot be used (unknown, malformed, expired, used up, inactive, other website,
 * not the invited contact, already redeemed by this contact) is the one INVITATION_NOT_REDEEMABLE.
 * ACCOUNT_EXISTS (a registrant whose email or username already signs in) is distinct: the portal
 * sends that person to sign in instead.
 */

/** Who redeems: a contact who is already signed in, or a registrant creating credentials. */
export type Redeemer =
  | {
      kind: 'contact';
      contactId: string;
      method: 'signin' | 'external';
      /** The contact's row when the caller has just read it (the portal, with the session). */
      row?: ContactRow;
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

const MAX_USER_AGENT = 512;

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
  // A signed-in contact's redemption changes nothing it reads: its reads need no transaction, and its
  // writes are one batch, all or nothing by itself (one statement on PostgreSQL, db/write-batch.ts),
  // whose conditional slot update and unique redeemed-contact row decide, whatever ran in between.
  if (input.redeemer.kind === 'contact') return redeemIn(deps.db, deps, hash, input, settings);
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
  conn: Conn,
  deps: Deps,
  hash: string,
  input: RedeemInput,
  settings: WebsiteSettings,
): Promise<RedeemResult> {
  const now = deps.now();
  const at = now.toISOString();
  // A registrant (in a transaction) locks the invitation first: concurrent registrations on one
  // invitation take turns, and each sees the one before it (on PostgreSQL a registrant could otherwise
  // see the invited contact already registered by a concurrent winner while still seeing the
  // invitation unredeemed, and be told ACCOUNT_EXISTS). Signed-in contacts need no such lock (they
  // read no other contact); their batch's slot update holds the row only for its one statement.
  const found = await repo.findByCodeHashWithRelations(conn, hash, {
    lock: input.redeemer.kind === 'register',
  });
  if (!found) throw notRedeemable();
  const { invitation, relations } = found;
  if (invitation.websiteId !== input.websiteId || !isRedeemable(invitation, now)) throw notRedeemable();

  const { contact, created, method, username } =
    input.redeemer.kind === 'contact'
      ? await signedInContact(conn, invitation, relations, settings, input.redeemer)
      : await registrant(conn, invitation, relations, settings, input.redeemer, at);
  if (relations.redeemedContactIds.includes(contact.id)) throw notRedeemable();

  // A registrant's contact row is written in the batch below, with the account it is given (one
  // statement may not change the row twice), before the rows that refer to it.
  const registering = input.redeemer.kind === 'register' ? input.redeemer : null;
  if (registering && invitation.assignToAccountId !== null)
    contact.parentAccountId = invitation.assignToAccountId;
  const webRoleIds = relations.webRoleIds;
  const redemptionId = newId();
  const actor = { type: 'contact' as const, id: contact.id, ip: input.ipAddress };
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
  // Every write of the redemption in one batch. Two of them decide, and either changing no row undoes
  // all of it: the redeemed-contact row (unique per invitation and contact) and the slot, a
  // conditional update (active, unexpired, below the maximum) that takes the invitation's row lock,
  // which concurrent redemptions of the same code wait for.
  try {
    await runWrites(conn, [
      ...(registering ? [saveContactWrite(conn, contact, created, registering.passwordHash)] : []),
      { query: repo.insertRedeemedContactWrite(conn, invitation.id, contact.id, at), expect: 1 },
      ...grantWrites(conn, contact.id, {
        accountId: registering ? null : invitation.assignToAccountId,
        webRoleIds,
        at,
      }),
      repo.insertInviteRedemptionWrite(conn, {
        id: redemptionId,
        invitationId: invitation.id,
        contactId: contact.id,
        username,
        method,
        ipAddress: input.ipAddress,
        userAgent: input.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
        createdAt: at,
      }),
      ...auditWrites(
        conn,
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
      ),
      ...enqueueWrites(conn, now, jobs),
      { query: repo.claimRedemptionSlotWrite(conn, invitation.id, at), expect: 1 },
    ]);
  } catch (err) {
    if (err instanceof WriteExpectationFailed) throw notRedeemable();
    throw err;
  }
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
  conn: Conn,
  invitation: InvitationRow,
  relations: repo.Relations,
  settings: WebsiteSettings,
  redeemer: Extract<Redeemer, { kind: 'contact' }>,
): Promise<Resolved> {
  const contact =
    redeemer.row?.id === redeemer.contactId ? redeemer.row : await findContactRow(conn, redeemer.contactId);
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
  const invitedId = invitation.type === 'single' ? (relations.invitedContactIds[0] ?? null) : null;
  const found = await findRegistrationContacts(trx, { email: emailKey, id: invitedId, username: r.username });
  const sameEmail = found.filter((c) => c.email?.toLowerCase() === emailKey);

  let target: ContactRow | undefined;
  if (invitation.type === 'single') {
    target = found.find((c) => c.id === invitedId);
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
  const username = r.username?.toLowerCase();
  if (
    username !== undefined &&
    found.some((c) => c.username?.toLowerCase() === username && c.id !== target?.id)
  )
    throw accountExists();

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
