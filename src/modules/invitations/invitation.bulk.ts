import { setImmediate as turn } from 'node:timers/promises';
import type { Actor, Deps } from '../../context.ts';
import type { Conn, DialectName } from '../../db/database.ts';
import { AppError, type ErrorCode } from '../../errors.ts';
import { countContacts, findContactsByIds } from '../contacts/contact.ts';
import { publishEvents, recordAuditMany } from '../events/event.ts';
import { findUsersByIds } from '../users/user.ts';
import type { InvitationRow, OpenInvitation } from './invitation.repository.ts';
import * as repo from './invitation.repository.ts';
import { defaultName, resolveExpiry } from './invitation.rules.ts';
import { checkReferences, newInvitation, ownerOf, websiteOfBody } from './invitation.service.ts';
import { queueKnownInvitationEmails } from './send.service.ts';

/**
 * "Invite these contacts" (SPEC 4, the Portal Connector's send-on-save): one Single invitation per
 * contact, created and optionally sent in one call (larger sets run as a bulk operation,
 * invitation.operation.ts). Contacts are taken in batches of BULK_BATCH, each one transaction (all of its invitations, links, audit events, Emails and jobs, or none), so the
 * worker sends the first batch while the next is written. A contact that does not exist is reported
 * in its item and does not stop the others; a batch that fails reports its contacts and the rest as
 * rejected, and what came before stays. Rows are written with multi-row statements, so ten thousand
 * contacts cost a few dozen statements, not tens of thousands.
 */
export interface BulkInput {
  websiteId: string;
  contactIds: string[];
  webRoleIds?: string[];
  assignToAccountId?: string | null;
  redemptionWorkflowId?: string | null;
  expiresAt?: string | null;
  ownerId?: string;
  inviterContactId?: string | null;
  send?: boolean;
  /** Skip (status `skipped`) the contacts that already hold an open invitation to the website. */
  skipInvited?: boolean;
}

export interface BulkItem {
  contactId: string;
  status: 'created' | 'queued' | 'rejected' | 'skipped';
  /** The new invitation; for a skipped contact, the open one it holds. */
  invitationId?: string;
  /** Created although the contact already held this open invitation to the website (a warning). */
  openInvitationId?: string;
  code?: ErrorCode;
  detail?: string;
  emailIds?: string[];
  /** Queued, but the contact has no primary email: that email failed. */
  failedNoPrimaryEmail?: number;
}

export interface BulkResult {
  created: number;
  queued: number;
  rejected: number;
  skipped: number;
  /** Contacts that already held an open invitation to the website: skipped, or invited again. */
  alreadyInvited: number;
  items: BulkItem[];
}

/**
 * Contacts per transaction: the worker starts sending the first batch while the next is written.
 * SQLite's batches cost no round trips, so they are small: a batch's rows then die young instead of
 * being carried into the old generation (a lower peak RSS). PostgreSQL pays about ten round trips a
 * batch, so its batches are larger (decision 0021).
 */
export const BULK_BATCH: Record<DialectName, number> = { sqlite: 250, postgres: 1_000 };
/** The first batch is smaller, so that the worker has emails to send sooner. */
export const FIRST_BULK_BATCH = 100;

export async function bulkInvite(deps: Deps, actor: Actor, input: BulkInput): Promise<BulkResult> {
  const contactIds = [...new Set(input.contactIds)];
  const result: BulkResult = { created: 0, queued: 0, rejected: 0, skipped: 0, alreadyInvited: 0, items: [] };
  const size = BULK_BATCH[deps.dialect];
  for (let k = 0, n = Math.min(size, FIRST_BULK_BATCH); k === 0 || k < contactIds.length; k += n, n = size) {
    const batch = contactIds.slice(k, k + n);
    let part: BulkResult;
    try {
      part = await deps.db
        .transaction()
        .execute((trx) => bulkInviteIn(trx, deps, actor, { ...input, contactIds: batch }));
    } catch (err) {
      // Nothing written yet: the error is the answer. Later: the batches before stay, and the
      // rest is reported, so the caller knows exactly which contacts to try again.
      if (k === 0) throw err;
      const code: ErrorCode = err instanceof AppError ? err.code : 'INTERNAL';
      const why = err instanceof AppError ? err.message : 'the database refused the batch';
      for (const contactId of contactIds.slice(k)) {
        result.items.push({
          contactId,
          status: 'rejected',
          code,
          detail: `Not created (${why}); the contacts before it were invited. Try this one again.`,
        });
        result.rejected += 1;
      }
      break;
    }
    result.created += part.created;
    result.queued += part.queued;
    result.rejected += part.rejected;
    result.skipped += part.skipped;
    result.alreadyInvited += part.alreadyInvited;
    for (const item of part.items) result.items.push(item);
    if (input.send) deps.notifyJobs();
    // SQLite's statements run on this thread: requests wait for the loop to turn between batches.
    await turn();
  }
  return result;
}

/** The answer of "who here already holds an open invitation to the website?" (the form's warning). */
export interface OpenCheck {
  /** Contacts checked. */
  total: number;
  alreadyInvited: number;
  /** The first EXAMPLES of them, with the invitation each holds. */
  examples: (OpenInvitation & { firstName: string; lastName: string; email: string | null })[];
}

const EXAMPLES = 10;

/**
 * Which of these contacts (given, or every contact matching a search) already hold an open
 * invitation to the website: counted, with a few named. Reads only.
 */
export async function checkOpenInvitations(
  deps: Deps,
  websiteId: string,
  source: { contactIds: string[] } | { matching: { search?: string } },
): Promise<OpenCheck> {
  const website = await websiteOfBody(deps, deps.db, websiteId);
  const now = deps.now().toISOString();
  let total: number;
  let alreadyInvited: number;
  let found: OpenInvitation[];
  if ('contactIds' in source) {
    const ids = [...new Set(source.contactIds)];
    // Given ids may name no contact: those are not counted.
    total = (await findContactsByIds(deps.db, ids)).length;
    const open = await repo.findOpenInvitationsOf(deps.db, website.id, ids, now);
    alreadyInvited = open.size;
    found = [...open.values()].slice(0, EXAMPLES);
  } else {
    const search = source.matching.search || undefined;
    total = await countContacts(deps, { search });
    const open = await repo.countOpenInvitationsMatching(deps.db, website.id, search, now, EXAMPLES);
    alreadyInvited = open.count;
    found = open.examples;
  }
  const named = new Map(
    (
      await findContactsByIds(
        deps.db,
        found.map((o) => o.contactId),
      )
    ).map((c) => [c.id, c]),
  );
  return {
    total,
    alreadyInvited,
    examples: found.map((o) => {
      const c = named.get(o.contactId);
      return { ...o, firstName: c?.firstName ?? '', lastName: c?.lastName ?? '', email: c?.email ?? null };
    }),
  };
}

export async function bulkInviteIn(
  trx: Conn,
  deps: Deps,
  actor: Actor,
  input: BulkInput,
): Promise<BulkResult> {
  const now = deps.now();
  const at = now.toISOString();
  const website = await websiteOfBody(deps, trx, input.websiteId);
  const ownerId = ownerOf(actor, input.ownerId);
  await checkReferences(trx, website.id, { ...input, ownerId, invitedContactIds: undefined });
  const expiresAt = resolveExpiry(input.expiresAt, website.settings, now);
  const webRoleIds = [...new Set(input.webRoleIds ?? [])].sort();
  const contactIds = [...new Set(input.contactIds)];
  const contacts = new Map((await findContactsByIds(trx, contactIds)).map((c) => [c.id, c]));
  if (input.skipInvited) await repo.lockOpenInvitationsOf(trx, website.id);
  const open = await repo.findOpenInvitationsOf(trx, website.id, contactIds, at);

  const items: BulkItem[] = [];
  const rows: { row: InvitationRow; codeHash: string }[] = [];
  const invited: { invitation_id: string; contact_id: string }[] = [];
  for (const contactId of contactIds) {
    const contact = contacts.get(contactId);
    if (!contact) {
      items.push({
        contactId,
        status: 'rejected',
        code: 'NOT_FOUND',
        detail: `No contact with id ${contactId}.`,
      });
      continue;
    }
    const held = open.get(contactId);
    if (held && input.skipInvited) {
      items.push({
        contactId,
        status: 'skipped',
        code: 'ALREADY_INVITED',
        invitationId: held.invitationId,
        detail: `Skipped: already holds the open invitation “${held.name}” to this website.`,
      });
      continue;
    }
    const created = newInvitation(deps.keys, at, {
      name: defaultName('single', contact),
      type: 'single',
      websiteId: website.id,
      ownerId,
      inviterContactId: input.inviterContactId ?? null,
      expiresAt,
      assignToAccountId: input.assignToAccountId ?? null,
      redemptionWorkflowId: input.redemptionWorkflowId ?? null,
      maxRedemptions: 1,
      invitedContactsOnly: false,
    });
    const { row } = created;
    rows.push(created);
    invited.push({ invitation_id: row.id, contact_id: contactId });
    items.push({
      contactId,
      status: 'created',
      invitationId: row.id,
      ...(held ? { openInvitationId: held.invitationId } : {}),
    });
  }
  await repo.insertInvitations(trx, rows);
  await repo.insertInvitationLinks(
    trx,
    invited,
    rows.flatMap(({ row }) => webRoleIds.map((web_role_id) => ({ invitation_id: row.id, web_role_id }))),
  );
  await recordAuditMany(
    trx,
    deps,
    actor,
    'invitation.created',
    invited.map((link) => ({
      entity: { type: 'invitation', id: link.invitation_id },
      data: {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [link.contact_id],
        webRoleIds,
        expiresAt,
        bulk: true,
      },
    })),
  );
  await publishEvents(
    trx,
    deps,
    invited.map((link) => ({
      type: 'invitation.created' as const,
      data: {
        invitationId: link.invitation_id,
        websiteId: website.id,
        type: 'single' as const,
        invitedContactIds: [link.contact_id],
        ownerId,
        expiresAt,
      },
    })),
  );

  if (input.send && rows.length > 0) {
    // Queued from what was just written, not read back: three fewer reads of every row per batch.
    const owners = new Map((await findUsersByIds(trx, [ownerId])).map((u) => [u.id, u]));
    const queued = await queueKnownInvitationEmails(
      trx,
      deps,
      actor,
      rows.map(({ row }) => row.id),
      {
        invitations: new Map(rows.map(({ row }) => [row.id, row])),
        invitedContactIds: new Map(invited.map((link) => [link.invitation_id, [link.contact_id]])),
        contacts,
        owners,
      },
    );
    const sent = new Map(queued.map((s) => [s.invitationId, s]));
    for (const item of items) {
      const s = item.invitationId ? sent.get(item.invitationId) : undefined;
      if (s?.status === 'queued')
        Object.assign(item, {
          status: 'queued',
          emailIds: s.emailIds,
          ...(s.failedNoPrimaryEmail ? { failedNoPrimaryEmail: s.failedNoPrimaryEmail } : {}),
        });
      else if (s) Object.assign(item, { code: s.code, detail: s.detail });
    }
  }
  const count = (status: BulkItem['status']) => items.filter((i) => i.status === status).length;
  return {
    created: rows.length,
    queued: count('queued'),
    rejected: count('rejected'),
    skipped: count('skipped'),
    alreadyInvited: open.size,
    items,
  };
}
