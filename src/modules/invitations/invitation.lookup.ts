import { createHash } from 'node:crypto';
import type { Deps } from '../../context.ts';
import { findContact } from '../contacts/contact.ts';
import type { WebsiteSettings } from '../websites/website.ts';
import { codeHash } from './invitation.code.ts';
import * as repo from './invitation.repository.ts';
import { contactRefusalOf, type Refusal, refusalOf } from './invitation.rules.ts';

/**
 * What the portal may learn about a code. The session keeps a code's reference: its keyed hash (the
 * value the invitations table already holds), never the code. A regenerated code has another hash,
 * so a kept reference goes stale at once. The landing keeps it without looking it up (one write,
 * decision 0010); the pages after it look it up.
 */
export interface CodeRef {
  codeHash: string;
}

/** A refused lookup: why, and the invitation it named when the code named one (for the audit). */
export interface Refused {
  reason: Refusal;
  invitationId: string | null;
}

export interface PendingInvitation {
  invitationId: string;
  name: string;
  type: 'single' | 'group';
  /** The invited contact's primary email (Single): registration uses it. */
  invitedEmail: string | null;
  /** "Ada Lovelace", when the invitation names an inviter. */
  inviter: string;
  /** Why the contact asked about may not redeem it; null when it may, or when no contact was named. */
  contactRefusal: 'not-invited' | 'already-redeemed' | null;
}

/**
 * A short, non-secret tag of the invitation a page shows, carried by its form: a POST whose session
 * now holds another invitation (a second tab, a cross-site navigation) is refused. '' for none.
 */
export const invitationTag = (ref: CodeRef | null): string =>
  ref ? createHash('sha256').update(`tag:${ref.codeHash}`).digest('hex').slice(0, 16) : '';

/** The reference of a well-formed code, not looked up; null when the code is malformed. */
export function refOfCode(deps: Deps, code: string): CodeRef | null {
  const hash = codeHash(deps.keys, code);
  return hash === null ? null : { codeHash: hash };
}

async function lookUp(
  deps: Deps,
  websiteId: string,
  ref: CodeRef,
): Promise<{ invitation: repo.RedeemableRow } | { refused: Refused }> {
  const i = await repo.findInvitationByCodeHash(deps.db, ref.codeHash, deps.now().toISOString());
  if (!i) return { refused: { reason: 'unknown', invitationId: null } };
  const reason = i.websiteId !== websiteId ? 'other-website' : refusalOf(i);
  return reason ? { refused: { reason, invitationId: i.id } } : { invitation: i };
}

/** The reference of a code that can be redeemed on this website now, or why not. */
export async function findRedeemableCode(
  deps: Deps,
  websiteId: string,
  code: string,
): Promise<{ ref: CodeRef } | { refused: Refused }> {
  const ref = refOfCode(deps, code);
  if (!ref) return { refused: { reason: 'unknown', invitationId: null } };
  const found = await lookUp(deps, websiteId, ref);
  return 'refused' in found ? found : { ref };
}

/**
 * The invitation behind a reference while it can still be redeemed with that code on this website,
 * else why not. With `asked`, also whether that contact may redeem it (`contactRefusal`).
 */
export async function describePending(
  deps: Deps,
  websiteId: string,
  ref: CodeRef,
  asked?: { contactId: string; settings: WebsiteSettings },
): Promise<{ pending: PendingInvitation } | { refused: Refused }> {
  const found = await lookUp(deps, websiteId, ref);
  if ('refused' in found) return found;
  const i = found.invitation;
  const relations = (await repo.findRelations(deps.db, [i.id])).get(i.id) as repo.Relations;
  const invited =
    i.type === 'single' && relations.invitedContactIds[0]
      ? await findContact(deps.db, relations.invitedContactIds[0])
      : undefined;
  const inviter = i.inviterContactId ? await findContact(deps.db, i.inviterContactId) : undefined;
  return {
    pending: {
      invitationId: i.id,
      name: i.name,
      type: i.type,
      invitedEmail: invited?.email ?? null,
      inviter: inviter ? `${inviter.firstName} ${inviter.lastName}`.trim() : '',
      contactRefusal: asked ? contactRefusalOf(i, relations, asked.contactId, asked.settings) : null,
    },
  };
}
