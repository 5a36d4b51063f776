import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { decodeCursor, decodeKeyCursor, type Page, toKeyedPage, toPage } from '../../db/paging.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { Keys } from '../../keys.ts';
import { findContactsByIds, requireAccount, requireContact, requireContacts } from '../contacts/contact.ts';
import { publishEvents, recordAudit } from '../events/event.ts';
import { findUsersByIds, requireEnabledUser } from '../users/user.ts';
import { getWebsite, requireWebRolesOfWebsite, type Website } from '../websites/website.ts';
import { requireRedemptionWorkflow } from '../workflows/workflow.ts';
import { codeHash, deriveCode } from './invitation.code.ts';
import type { InvitationRow, InviteRedemption, Relations } from './invitation.repository.ts';
import * as repo from './invitation.repository.ts';
import {
  activeStatusReason,
  checkShape,
  defaultName,
  deriveStatus,
  type InvitationStatus,
  type InvitationType,
  redemptionUrl,
  resolveExpiry,
} from './invitation.rules.ts';

export type { InviteRedemption };

/** An invitation as clients see it. Never holds the code. */
export interface Invitation extends Omit<InvitationRow, 'codeVersion' | 'lastSentAt'>, Relations {
  status: InvitationStatus;
  lastSentAt: string | null;
}

export interface InvitationWithCode extends Invitation {
  code: string;
  redemptionUrl: string;
}

/** A created invitation, with the open invitations its contacts already held there (a warning). */
export interface CreatedInvitation extends InvitationWithCode {
  alreadyInvited: repo.OpenInvitation[];
}

export interface CreateInvitationInput {
  type: InvitationType;
  websiteId: string;
  name?: string;
  ownerId?: string;
  inviterContactId?: string | null;
  invitedContactIds?: string[];
  expiresAt?: string | null;
  assignToAccountId?: string | null;
  redemptionWorkflowId?: string | null;
  webRoleIds?: string[];
  maxRedemptions?: number;
  invitedContactsOnly?: boolean;
  /**
   * Leave out the invited contacts who already hold an open invitation to the website: a Single
   * invitation (or a Group left with no one) is then not created (ALREADY_INVITED).
   */
  skipInvited?: boolean;
}

export type UpdateInvitationInput = Partial<
  Omit<CreateInvitationInput, 'type' | 'websiteId' | 'skipInvited'>
>;

const present = (row: InvitationRow, rel: Relations, now: Date): Invitation => {
  const { codeVersion: _hidden, ...rest } = row;
  return { ...rest, ...rel, status: deriveStatus(row, now) };
};

async function load(
  deps: Deps,
  conn: Conn,
  id: string,
): Promise<{ row: InvitationRow; invitation: Invitation }> {
  const row = await repo.findInvitation(conn, id);
  if (!row) throw notFound('invitation', id);
  const rel = (await repo.findRelations(conn, [id])).get(id) as Relations;
  return { row, invitation: present(row, rel, deps.now()) };
}

/** Every record an invitation refers to exists, and its web roles belong to its website. */
export async function checkReferences(
  trx: Conn,
  websiteId: string,
  input: UpdateInvitationInput,
): Promise<{ invited: { firstName: string; lastName: string }[] }> {
  if (input.ownerId !== undefined) await requireEnabledUser(trx, input.ownerId, '/ownerId');
  if (input.inviterContactId) await requireContact(trx, input.inviterContactId, '/inviterContactId');
  if (input.assignToAccountId) await requireAccount(trx, input.assignToAccountId, '/assignToAccountId');
  if (input.redemptionWorkflowId)
    await requireRedemptionWorkflow(trx, input.redemptionWorkflowId, websiteId, '/redemptionWorkflowId');
  if (input.webRoleIds) await requireWebRolesOfWebsite(trx, websiteId, input.webRoleIds);
  const invited = input.invitedContactIds
    ? await requireContacts(trx, input.invitedContactIds, '/invitedContactIds')
    : [];
  return { invited };
}

function withCode(
  deps: Deps,
  invitation: Invitation,
  website: Website,
  codeVersion: number,
): InvitationWithCode {
  const code = deriveCode(deps.keys, invitation.id, codeVersion);
  return { ...invitation, code, redemptionUrl: redemptionUrl(website.baseUrl, code) };
}

/** A new invitation's row and code hash: active, new, code version 1, never sent or redeemed. */
export function newInvitation(
  keys: Keys,
  at: string,
  fields: Pick<
    InvitationRow,
    | 'name'
    | 'type'
    | 'websiteId'
    | 'ownerId'
    | 'inviterContactId'
    | 'expiresAt'
    | 'assignToAccountId'
    | 'redemptionWorkflowId'
    | 'maxRedemptions'
    | 'invitedContactsOnly'
  >,
): { row: InvitationRow; codeHash: string } {
  const row: InvitationRow = {
    id: newId(),
    ...fields,
    redemptionCount: 0,
    state: 'active',
    statusReason: 'new',
    codeVersion: 1,
    lastSentAt: null,
    createdAt: at,
    updatedAt: at,
  };
  return { row, codeHash: codeHash(keys, deriveCode(keys, row.id, row.codeVersion)) as string };
}

/** The website named in a body: VALIDATION_FAILED at /websiteId when it does not exist. */
export async function websiteOfBody(deps: Deps, trx: Conn, websiteId: string): Promise<Website> {
  return getWebsite(deps, websiteId, trx).catch((err) => {
    if (err instanceof AppError && err.code === 'NOT_FOUND')
      throw invalid('/websiteId', `No website with id ${websiteId}.`);
    throw err;
  });
}

/** `invitedContactsOnly` as stored: a Group choice; a Single invitation is its invited contact's alone. */
function invitedOnlyOf(type: InvitationType, requested: boolean | undefined): boolean {
  if (type === 'single' && requested === true)
    throw invalid(
      '/invitedContactsOnly',
      'A Single invitation is always for its invited contact; invitedContactsOnly applies to Group invitations.',
    );
  return requested ?? false;
}

/** The owner: as given, else the acting user. */
export function ownerOf(actor: Actor, ownerId: string | undefined): string {
  const owner = ownerId ?? actor.id;
  if (!owner) throw invalid('/ownerId', 'ownerId is required when no user is acting.');
  return owner;
}

/**
 * Creates an invitation (SPEC 3) and returns it with its code, the only time besides the audited
 * reveal that the code leaves the server. `trx` lets a caller create several in one transaction.
 */
export async function createInvitation(
  deps: Deps,
  actor: Actor,
  input: CreateInvitationInput,
  trx?: Conn,
): Promise<CreatedInvitation> {
  if (!trx) return deps.db.transaction().execute((t) => createInvitation(deps, actor, input, t));
  const now = deps.now();
  let invitedContactIds = input.invitedContactIds ?? [];
  const maxRedemptions = checkShape(input.type, invitedContactIds, input.maxRedemptions);
  const website = await websiteOfBody(deps, trx, input.websiteId);
  const ownerId = ownerOf(actor, input.ownerId);
  const { invited } = await checkReferences(trx, website.id, { ...input, ownerId });
  const expiresAt = resolveExpiry(input.expiresAt, website.settings, now);
  if (input.skipInvited) await repo.lockOpenInvitationsOf(trx, website.id);
  const open = [
    ...(await repo.findOpenInvitationsOf(trx, website.id, invitedContactIds, now.toISOString())).values(),
  ];
  if (input.skipInvited && open.length > 0) {
    // A Group invitation leaves them out; a Single one (or a Group left with nobody) is not created.
    const held = new Set(open.map((o) => o.contactId));
    invitedContactIds = invitedContactIds.filter((id) => !held.has(id));
    if (input.type === 'single' || invitedContactIds.length === 0)
      throw new AppError(
        'ALREADY_INVITED',
        `Not created: ${open.length === 1 ? 'the contact already holds' : `all ${open.length} invited contacts already hold`} an open invitation to this website (${open.map((o) => `“${o.name}”`).join(', ')}).`,
      );
  }
  const webRoleIds = [...new Set(input.webRoleIds ?? [])].sort();
  const created = newInvitation(deps.keys, now.toISOString(), {
    name: input.name ?? defaultName(input.type, invited[0]),
    type: input.type,
    websiteId: website.id,
    ownerId,
    inviterContactId: input.inviterContactId ?? null,
    expiresAt,
    assignToAccountId: input.assignToAccountId ?? null,
    redemptionWorkflowId: input.redemptionWorkflowId ?? null,
    maxRedemptions,
    invitedContactsOnly: invitedOnlyOf(input.type, input.invitedContactsOnly),
  });
  const { row } = created;
  await repo.insertInvitations(trx, [created]);
  await repo.replaceInvitedContacts(trx, row.id, invitedContactIds);
  await repo.replaceWebRoles(trx, row.id, webRoleIds);
  await recordAudit(
    trx,
    deps,
    actor,
    'invitation.created',
    { type: 'invitation', id: row.id },
    {
      type: row.type,
      websiteId: row.websiteId,
      invitedContactIds,
      webRoleIds,
      maxRedemptions,
      expiresAt,
    },
  );
  await publishEvents(trx, deps, [
    {
      type: 'invitation.created',
      data: {
        invitationId: row.id,
        websiteId: row.websiteId,
        type: row.type,
        invitedContactIds,
        ownerId,
        expiresAt,
      },
    },
  ]);
  const invitation = present(
    row,
    { invitedContactIds: [...invitedContactIds].sort(), webRoleIds, redeemedContactIds: [] },
    now,
  );
  return { ...withCode(deps, invitation, website, row.codeVersion), alreadyInvited: open };
}

export async function getInvitation(deps: Deps, id: string): Promise<Invitation> {
  return (await load(deps, deps.db, id)).invitation;
}

/** An invitation with its owner (a user) and inviter (a contact) named, for its page. */
export async function getInvitationDetail(deps: Deps, id: string) {
  const invitation = await getInvitation(deps, id);
  const [owner] = await findUsersByIds(deps.db, [invitation.ownerId]);
  const [inviter] = invitation.inviterContactId
    ? await findContactsByIds(deps.db, [invitation.inviterContactId])
    : [];
  return {
    ...invitation,
    owner: owner ? { id: owner.id, name: owner.name, email: owner.email } : null,
    inviter: inviter
      ? { id: inviter.id, firstName: inviter.firstName, lastName: inviter.lastName, email: inviter.email }
      : null,
  };
}

export async function listInvitations(
  deps: Deps,
  q: {
    websiteId?: string;
    contactId?: string;
    status?: InvitationStatus;
    search?: string;
    sort?: repo.InvitationSort;
    limit: number;
    cursor?: string;
  },
): Promise<Page<Invitation>> {
  const now = deps.now();
  const byName = q.sort === 'name';
  const rows = await repo.findInvitations(deps.db, {
    ...q,
    ...(byName ? { afterKey: decodeKeyCursor(q.cursor) } : { after: decodeCursor(q.cursor) }),
    limit: q.limit + 1,
    now: now.toISOString(),
  });
  const keyed = byName ? toKeyedPage(rows, q.limit, (r) => r.sortKey) : toPage(rows, q.limit);
  const page = { ...keyed, items: keyed.items.map(({ sortKey: _key, ...row }) => row) };
  const rel = await repo.findRelations(
    deps.db,
    page.items.map((r) => r.id),
  );
  return {
    items: page.items.map((r) => present(r, rel.get(r.id) as Relations, now)),
    nextCursor: page.nextCursor,
  };
}

export async function updateInvitation(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: UpdateInvitationInput,
): Promise<Invitation> {
  return deps.db.transaction().execute(async (trx) => {
    const { row, invitation } = await load(deps, trx, id);
    const website = await getWebsite(deps, row.websiteId, trx);
    const invitedContactIds = patch.invitedContactIds ?? invitation.invitedContactIds;
    const maxRedemptions = checkShape(
      row.type,
      invitedContactIds,
      patch.maxRedemptions ?? (row.type === 'group' ? row.maxRedemptions : undefined),
      row.redemptionCount,
    );
    await checkReferences(trx, row.websiteId, patch);
    const now = deps.now();
    const next: InvitationRow = {
      ...row,
      name: patch.name ?? row.name,
      ownerId: patch.ownerId ?? row.ownerId,
      inviterContactId: patch.inviterContactId === undefined ? row.inviterContactId : patch.inviterContactId,
      expiresAt:
        patch.expiresAt === undefined ? row.expiresAt : resolveExpiry(patch.expiresAt, website.settings, now),
      assignToAccountId:
        patch.assignToAccountId === undefined ? row.assignToAccountId : patch.assignToAccountId,
      redemptionWorkflowId:
        patch.redemptionWorkflowId === undefined ? row.redemptionWorkflowId : patch.redemptionWorkflowId,
      maxRedemptions,
      invitedContactsOnly:
        patch.invitedContactsOnly === undefined
          ? row.invitedContactsOnly
          : invitedOnlyOf(row.type, patch.invitedContactsOnly),
      updatedAt: now.toISOString(),
    };
    if (next.state === 'active') next.statusReason = activeStatusReason(next);
    await repo.updateInvitation(trx, next);
    if (patch.invitedContactIds) await repo.replaceInvitedContacts(trx, id, patch.invitedContactIds);
    if (patch.webRoleIds) await repo.replaceWebRoles(trx, id, [...new Set(patch.webRoleIds)]);
    await recordAudit(trx, deps, actor, 'invitation.updated', { type: 'invitation', id }, { changes: patch });
    return (await load(deps, trx, id)).invitation;
  });
}

/** Deletes an invitation that was never redeemed; a redeemed one is history (409: deactivate it). */
export async function deleteInvitation(deps: Deps, actor: Actor, id: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const { row } = await load(deps, trx, id);
    if (row.redemptionCount > 0) {
      throw new AppError(
        'INVITATION_REDEEMED',
        'This invitation has been redeemed and stays on record; deactivate it instead.',
      );
    }
    await repo.deleteInvitation(trx, id);
    await recordAudit(
      trx,
      deps,
      actor,
      'invitation.deleted',
      { type: 'invitation', id },
      { name: row.name, type: row.type },
    );
    await publishEvents(trx, deps, [{ type: 'invitation.deleted', data: { invitationId: id } }]);
  });
}

/** The audited reveal of the current code (the seeds' "Advanced" tab). */
export async function revealCode(
  deps: Deps,
  actor: Actor,
  id: string,
): Promise<{ code: string; redemptionUrl: string }> {
  return deps.db.transaction().execute(async (trx) => {
    const { row } = await load(deps, trx, id);
    const website = await getWebsite(deps, row.websiteId, trx);
    await recordAudit(
      trx,
      deps,
      actor,
      'invitation.code_revealed',
      { type: 'invitation', id },
      { codeVersion: row.codeVersion },
    );
    const code = deriveCode(deps.keys, id, row.codeVersion);
    return { code, redemptionUrl: redemptionUrl(website.baseUrl, code) };
  });
}

/** A new code; every earlier code of this invitation stops working when this commits. */
export async function regenerateCode(deps: Deps, actor: Actor, id: string): Promise<InvitationWithCode> {
  return deps.db.transaction().execute(async (trx) => {
    const { row } = await load(deps, trx, id);
    const website = await getWebsite(deps, row.websiteId, trx);
    const codeVersion = row.codeVersion + 1;
    const code = deriveCode(deps.keys, id, codeVersion);
    await repo.setCode(trx, id, codeVersion, codeHash(deps.keys, code) as string, deps.now().toISOString());
    await recordAudit(
      trx,
      deps,
      actor,
      'invitation.code_regenerated',
      { type: 'invitation', id },
      { codeVersion },
    );
    await publishEvents(trx, deps, [
      { type: 'invitation.code_regenerated', data: { invitationId: id, codeVersion } },
    ]);
    const { invitation } = await load(deps, trx, id);
    return withCode(deps, invitation, website, codeVersion);
  });
}

/**
 * Deactivates: from the moment this commits, no redemption can succeed (the redemption's
 * conditional update requires `state = 'active'` and waits for this row lock). The audit event
 * records how many redemptions had committed before.
 */
export async function deactivateInvitation(deps: Deps, actor: Actor, id: string): Promise<Invitation> {
  return deps.db.transaction().execute(async (trx) => {
    const at = deps.now().toISOString();
    const count = await repo.setState(trx, id, 'inactive', 'inactive', at);
    if (count === undefined) throw notFound('invitation', id);
    await recordAudit(
      trx,
      deps,
      actor,
      'invitation.deactivated',
      { type: 'invitation', id },
      { redemptionCount: count },
    );
    await publishEvents(trx, deps, [{ type: 'invitation.deactivated', data: { invitationId: id } }]);
    return (await load(deps, trx, id)).invitation;
  });
}

export async function activateInvitation(deps: Deps, actor: Actor, id: string): Promise<Invitation> {
  return deps.db.transaction().execute(async (trx) => {
    const { row } = await load(deps, trx, id);
    await repo.setState(trx, id, 'active', activeStatusReason(row), deps.now().toISOString());
    await recordAudit(trx, deps, actor, 'invitation.activated', { type: 'invitation', id }, {});
    await publishEvents(trx, deps, [{ type: 'invitation.activated', data: { invitationId: id } }]);
    return (await load(deps, trx, id)).invitation;
  });
}

export async function listRedemptions(
  deps: Deps,
  id: string,
  q: { limit: number; cursor?: string },
): Promise<Page<InviteRedemption>> {
  await load(deps, deps.db, id);
  return findRedemptions(deps, { ...q, invitationId: id });
}

/** Invite Redemption activities, newest first, filtered by invitation, contact or website. */
export async function findRedemptions(
  deps: Deps,
  q: { invitationId?: string; contactId?: string; websiteId?: string; limit: number; cursor?: string },
): Promise<Page<InviteRedemption>> {
  const rows = await repo.findInviteRedemptions(deps.db, {
    invitationId: q.invitationId,
    contactId: q.contactId,
    websiteId: q.websiteId,
    before: decodeCursor(q.cursor),
    limit: q.limit + 1,
  });
  return toPage(rows, q.limit);
}
