import type { Deps } from '../../context.ts';
import { findContactRow } from '../contacts/contact.service.ts';
import { codeHash, deriveCode } from './invitation.code.ts';
import * as repo from './invitation.repository.ts';
import { isRedeemable } from './invitation.rules.ts';

/**
 * What the portal may learn about a code before redeeming it. The portal keeps a reference (the
 * invitation's id and code version) in the session, never the code: the code is derived again
 * when the invitee redeems, and a regenerated code makes the reference stale at once.
 */
export interface CodeRef {
  invitationId: string;
  codeVersion: number;
}

export interface PendingInvitation extends CodeRef {
  name: string;
  type: 'single' | 'group';
  /** The invited contact's primary email (Single), to pre-fill registration. */
  invitedEmail: string | null;
  /** "Ada Lovelace", when the invitation names an inviter. */
  inviter: string;
}

/** The reference of a code that can be redeemed on this website now, or null (for any reason). */
export async function findRedeemableCode(
  deps: Deps,
  websiteId: string,
  code: string,
): Promise<CodeRef | null> {
  const hash = codeHash(deps.keys, code);
  if (hash === null) return null;
  const i = await repo.findInvitationByCodeHash(deps.db, hash);
  if (!i || i.websiteId !== websiteId || !isRedeemable(i, deps.now())) return null;
  return { invitationId: i.id, codeVersion: i.codeVersion };
}

/** The invitation behind a reference, while it is still redeemable with that code; else null. */
export async function describePending(
  deps: Deps,
  websiteId: string,
  ref: CodeRef,
): Promise<PendingInvitation | null> {
  const i = await repo.findInvitation(deps.db, ref.invitationId);
  if (!i || i.websiteId !== websiteId || i.codeVersion !== ref.codeVersion || !isRedeemable(i, deps.now()))
    return null;
  const relations = (await repo.findRelations(deps.db, [i.id])).get(i.id);
  const invited =
    i.type === 'single' && relations?.invitedContactIds[0]
      ? await findContactRow(deps.db, relations.invitedContactIds[0])
      : undefined;
  const inviter = i.inviterContactId ? await findContactRow(deps.db, i.inviterContactId) : undefined;
  return {
    ...ref,
    name: i.name,
    type: i.type,
    invitedEmail: invited?.email ?? null,
    inviter: inviter ? `${inviter.firstName} ${inviter.lastName}`.trim() : '',
  };
}

/** The code of a reference, for redeemInvitation (which checks everything again). */
export const codeOfRef = (deps: Deps, ref: CodeRef): string =>
  deriveCode(deps.keys, ref.invitationId, ref.codeVersion);
