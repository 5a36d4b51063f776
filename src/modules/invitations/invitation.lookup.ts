import type { Deps } from '../../context.ts';
import { findContactRow } from '../contacts/contact.service.ts';
import { codeHash } from './invitation.code.ts';
import * as repo from './invitation.repository.ts';
import { isRedeemable } from './invitation.rules.ts';

/**
 * What the portal keeps of a code in the session: its keyed hash (the value the invitations table
 * already holds), never the code. A regenerated code has another hash, so a kept reference goes
 * stale at once. The landing keeps it without looking it up (one write, decision 0010); the pages
 * after it look it up.
 */
export interface CodeRef {
  codeHash: string;
}

export interface PendingInvitation {
  name: string;
  type: 'single' | 'group';
  /** The invited contact's primary email (Single), to pre-fill registration. */
  invitedEmail: string | null;
  /** "Ada Lovelace", when the invitation names an inviter. */
  inviter: string;
}

/** The reference of a well-formed code, not looked up; null when the code is malformed. */
export function refOfCode(deps: Deps, code: string): CodeRef | null {
  const hash = codeHash(deps.keys, code);
  return hash === null ? null : { codeHash: hash };
}

/** The reference of a code that can be redeemed on this website now, or null (for any reason). */
export async function findRedeemableCode(
  deps: Deps,
  websiteId: string,
  code: string,
): Promise<CodeRef | null> {
  const ref = refOfCode(deps, code);
  return ref && (await redeemable(deps, websiteId, ref)) ? ref : null;
}

async function redeemable(deps: Deps, websiteId: string, ref: CodeRef) {
  const i = await repo.findInvitationByCodeHash(deps.db, ref.codeHash);
  return i && i.websiteId === websiteId && isRedeemable(i, deps.now()) ? i : undefined;
}

/** The invitation behind a reference, while it can still be redeemed with that code; else null. */
export async function describePending(
  deps: Deps,
  websiteId: string,
  ref: CodeRef,
): Promise<PendingInvitation | null> {
  const i = await redeemable(deps, websiteId, ref);
  if (!i) return null;
  const relations = (await repo.findRelations(deps.db, [i.id])).get(i.id);
  const invited =
    i.type === 'single' && relations?.invitedContactIds[0]
      ? await findContactRow(deps.db, relations.invitedContactIds[0])
      : undefined;
  const inviter = i.inviterContactId ? await findContactRow(deps.db, i.inviterContactId) : undefined;
  return {
    name: i.name,
    type: i.type,
    invitedEmail: invited?.email ?? null,
    inviter: inviter ? `${inviter.firstName} ${inviter.lastName}`.trim() : '',
  };
}
