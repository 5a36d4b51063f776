import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { AppError, type ErrorCode } from '../../errors.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { type Contact, findContactsByIds } from '../contacts/contact.ts';
import { deliveryJobs, type Email, insertEmails, newEmail } from '../emails/email.ts';
import { recordAuditMany } from '../events/event.ts';
import { findUsersByIds, type User } from '../users/user.ts';
import { activeSendWorkflow } from '../workflows/workflow.ts';
import { fromAddressOf } from './invitation.email.ts';
import type { InvitationRow } from './invitation.repository.ts';
import * as repo from './invitation.repository.ts';
import { deriveStatus } from './invitation.rules.ts';
import {
  type CreatedInvitation,
  type CreateInvitationInput,
  createInvitation,
} from './invitation.service.ts';

/**
 * The Send Invitation workflow's first half (SPEC 4): always asynchronous. In the caller's
 * transaction it writes one Email record per invited contact (to the primary email only) and the
 * delivery jobs; the worker does the rest after commit (emails/email.delivery.ts, composing with
 * invitation.messages.ts). One invitation that cannot be sent is reported in its item and does not
 * stop the others.
 */

export interface SendItem {
  invitationId: string;
  status: 'queued' | 'rejected';
  /** For rejected items: NOT_FOUND, INVITATION_NOT_SENDABLE or NO_RECIPIENTS. */
  code?: ErrorCode;
  detail?: string;
  /** Email records written; those of contacts without a primary email are already failed. */
  emailIds?: string[];
  failedNoPrimaryEmail?: number;
}

/** What queueing reads of the invitations: their rows, invited contacts, contacts and owners. */
export interface SendContext {
  invitations: ReadonlyMap<string, InvitationRow>;
  invitedContactIds: ReadonlyMap<string, readonly string[]>;
  contacts: ReadonlyMap<string, Pick<Contact, 'email'>>;
  owners: ReadonlyMap<string, Pick<User, 'name' | 'email'>>;
}

/** Queues the invitation emails of `ids` inside `trx`. 409 WORKFLOW_INACTIVE refuses the whole call. */
export async function queueInvitationEmails(
  trx: Conn,
  deps: Deps,
  actor: Actor,
  ids: readonly string[],
): Promise<SendItem[]> {
  const unique = [...new Set(ids)];
  const invitations = new Map((await repo.findInvitationsByIds(trx, unique)).map((i) => [i.id, i]));
  const relations = await repo.findRelations(trx, [...invitations.keys()]);
  const contactIds = [...new Set([...relations.values()].flatMap((r) => r.invitedContactIds))];
  const contacts = new Map((await findContactsByIds(trx, contactIds)).map((c) => [c.id, c]));
  const ownerIds = [...new Set([...invitations.values()].map((i) => i.ownerId))];
  const owners = new Map((await findUsersByIds(trx, ownerIds)).map((u) => [u.id, u]));
  const invitedContactIds = new Map([...relations].map(([id, r]) => [id, r.invitedContactIds]));
  return queueKnownInvitationEmails(trx, deps, actor, unique, {
    invitations,
    invitedContactIds,
    contacts,
    owners,
  });
}

/**
 * The same for invitations whose rows the caller holds already (a bulk call that has just written
 * them): nothing is read again but the workflow.
 */
export async function queueKnownInvitationEmails(
  trx: Conn,
  deps: Deps,
  actor: Actor,
  unique: readonly string[],
  { invitations, invitedContactIds, contacts, owners }: SendContext,
): Promise<SendItem[]> {
  const workflow = await activeSendWorkflow(trx);
  const now = deps.now();
  const at = now.toISOString();
  const items: SendItem[] = [];
  const emails: Email[] = [];
  for (const id of unique) {
    const invitation = invitations.get(id);
    if (!invitation) {
      items.push({
        invitationId: id,
        status: 'rejected',
        code: 'NOT_FOUND',
        detail: `No invitation with id ${id}.`,
      });
      continue;
    }
    const status = deriveStatus(invitation, now);
    if (status !== 'new' && status !== 'sent') {
      items.push({
        invitationId: id,
        status: 'rejected',
        code: 'INVITATION_NOT_SENDABLE',
        detail: `The invitation is ${status}; only new or sent invitations can be sent.`,
      });
      continue;
    }
    const invited = invitedContactIds.get(id) ?? [];
    if (invited.length === 0) {
      items.push({
        invitationId: id,
        status: 'rejected',
        code: 'NO_RECIPIENTS',
        detail: 'The invitation has no invited contacts; add some, or give the code out yourself.',
      });
      continue;
    }
    const from = fromAddressOf(workflow, owners.get(invitation.ownerId) ?? null, deps.config.mailFrom);
    const emailIds: string[] = [];
    let noEmail = 0;
    for (const contactId of invited) {
      const to = contacts.get(contactId)?.email ?? null;
      const email = newEmail(
        deps,
        { kind: 'invitation', sourceId: null, invitationId: id, contactId, to, from },
        at,
      );
      emailIds.push(email.id);
      if (to === null) noEmail += 1;
      emails.push(email);
    }
    items.push({
      invitationId: id,
      status: 'queued',
      emailIds,
      ...(noEmail > 0 ? { failedNoPrimaryEmail: noEmail } : {}),
    });
  }

  await insertEmails(trx, emails);
  await enqueue(trx, now, deliveryJobs(emails.filter((e) => e.status === 'pending').map((e) => e.id)));
  const queued = items.filter((i) => i.status === 'queued');
  await recordAuditMany(
    trx,
    deps,
    actor,
    'invitation.send_requested',
    queued.map((i) => ({
      entity: { type: 'invitation', id: i.invitationId },
      data: { emailIds: i.emailIds, workflowVersion: workflow.version },
    })),
  );
  return items;
}

/** POST /invitations/send and /invitations/{id}/send: one transaction, then the worker is told. */
export async function sendInvitations(deps: Deps, actor: Actor, ids: readonly string[]): Promise<SendItem[]> {
  const items = await deps.db.transaction().execute((trx) => queueInvitationEmails(trx, deps, actor, ids));
  deps.notifyJobs();
  return items;
}

/** The single-invitation form: the item, or its problem as an error. */
export async function sendInvitation(deps: Deps, actor: Actor, id: string): Promise<SendItem> {
  const [item] = await sendInvitations(deps, actor, [id]);
  if (!item) throw new AppError('INTERNAL', 'No result for the invitation.');
  if (item.status === 'rejected')
    throw new AppError(item.code ?? 'INVITATION_NOT_SENDABLE', item.detail ?? '');
  return item;
}

/** POST /invitations with `send: true`: created and queued in one transaction, or neither. */
export async function createAndMaybeSend(
  deps: Deps,
  actor: Actor,
  input: CreateInvitationInput,
  send: boolean,
): Promise<CreatedInvitation & { send?: SendItem }> {
  const created = await deps.db.transaction().execute(async (trx) => {
    const invitation = await createInvitation(deps, actor, input, trx);
    if (!send) return invitation;
    const [item] = await queueInvitationEmails(trx, deps, actor, [invitation.id]);
    if (!item || item.status === 'rejected')
      throw new AppError(item?.code ?? 'INVITATION_NOT_SENDABLE', item?.detail ?? '');
    return { ...invitation, send: item };
  });
  if (send) deps.notifyJobs();
  return created;
}
