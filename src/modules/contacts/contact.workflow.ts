import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { recordAudit } from '../events/event.ts';
import * as repo from './contact.repository.ts';

/** The contact fields a workflow step may set (never the primary email, username or password). */
export interface WorkflowContactFields {
  firstName?: string;
  lastName?: string;
  email2?: string | null;
  email3?: string | null;
  loginEnabled?: boolean;
}

/** What a workflow step changes on its contact. */
export type ContactChange =
  | { kind: 'fields'; fields: WorkflowContactFields }
  | { kind: 'add-web-roles'; webRoleIds: readonly string[] }
  | { kind: 'remove-web-roles'; webRoleIds: readonly string[] }
  | { kind: 'parent-account'; accountId: string };

export class ContactGone extends Error {
  override name = 'ContactGone';
}

/**
 * Applies a workflow step's change to a contact inside the caller's transaction, with its audit
 * event (actor: the system, data naming the run). Throws ContactGone when the contact was deleted;
 * a foreign-key error when a role or account no longer exists.
 */
export async function applyContactChange(
  trx: Conn,
  deps: Pick<Deps, 'now'>,
  contactId: string,
  change: ContactChange,
  run: { runId: string; actor: Actor },
): Promise<void> {
  const current = await repo.findContact(trx, contactId);
  if (!current) throw new ContactGone(`The contact ${contactId} was deleted.`);
  const at = deps.now().toISOString();
  if (change.kind === 'fields')
    await repo.updateContact(trx, { ...current, ...change.fields, updatedAt: at });
  else if (change.kind === 'add-web-roles')
    await repo.addContactWebRoles(trx, contactId, change.webRoleIds, at);
  else if (change.kind === 'remove-web-roles')
    await repo.deleteContactWebRoles(trx, contactId, change.webRoleIds);
  else await repo.updateContact(trx, { ...current, parentAccountId: change.accountId, updatedAt: at });
  const { kind, ...what } = change;
  await recordAudit(
    trx,
    deps,
    run.actor,
    'contact.updated',
    { type: 'contact', id: contactId },
    {
      workflowRunId: run.runId,
      change: kind,
      ...what,
    },
  );
}
