import type { Deps } from '../../context.ts';
import { getAccount } from '../contacts/contact.ts';
import { findWebRolesByIds } from '../websites/website.ts';
import * as repo from './invitation.repository.ts';

/** What a redemption gave its contact: the invitation's web roles and account, by name. */
export interface Grant {
  roleNames: string[];
  accountName: string | null;
}

/**
 * What the contact's newest redemption on the website gave (the invitation's web roles, sorted by
 * name, and its account), or null when the contact has redeemed nothing there.
 */
export async function latestGrant(deps: Deps, contactId: string, websiteId: string): Promise<Grant | null> {
  const [redemption] = await repo.findInviteRedemptions(deps.db, { contactId, websiteId, limit: 1 });
  if (!redemption) return null;
  const invitation = await repo.findInvitation(deps.db, redemption.invitationId);
  if (!invitation) return null;
  const relations = (await repo.findRelations(deps.db, [invitation.id])).get(invitation.id);
  const roles = await findWebRolesByIds(deps.db, relations?.webRoleIds ?? []);
  const account = invitation.assignToAccountId
    ? await getAccount(deps, invitation.assignToAccountId).catch(() => undefined)
    : undefined;
  return {
    roleNames: roles.map((r) => r.name).sort((a, b) => a.localeCompare(b)),
    accountName: account?.name ?? null,
  };
}
