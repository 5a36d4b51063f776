import { type Contact, findContactsByIds } from '../contacts/contact.ts';
import type { MessageSource } from '../emails/email.ts';
import { findUsersByIds } from '../users/user.ts';
import { getWebsite, type Website } from '../websites/website.ts';
import { sendTemplate } from '../workflows/workflow.ts';
import { invitationMessage } from './invitation.email.ts';
import * as repo from './invitation.repository.ts';
import { deriveStatus } from './invitation.rules.ts';

/**
 * The Send Invitation workflow's second half: how an invitation email is composed when the delivery
 * (emails/email.delivery.ts) sends it. Its template is the active Send Invitation workflow's; it
 * carries the invitation's code, masked in the stored copy. An invitation no longer new or sent
 * (expired, deactivated, used up) is not sent. The invitations whose emails were accepted become
 * `sent`.
 */
interface Context {
  invitations: Map<string, repo.InvitationRow>;
  contacts: Map<string, Contact>;
  owners: Map<string, { name: string; email: string }>;
  websites: Map<string, Website>;
  template: Awaited<ReturnType<typeof sendTemplate>>;
}

export const invitationMessages: MessageSource<Context> = {
  sentEvent: {
    type: 'invitation.sent',
    of: (email) =>
      email.invitationId && email.to
        ? {
            type: 'invitation.sent',
            data: {
              invitationId: email.invitationId,
              contactId: email.contactId,
              emailId: email.id,
              to: email.to,
            },
          }
        : null,
  },

  async load(deps, emails) {
    const invitationIds = [...new Set(emails.flatMap((e) => (e.invitationId ? [e.invitationId] : [])))];
    const invitations = new Map(
      (await repo.findInvitationsByIds(deps.db, invitationIds)).map((i) => [i.id, i]),
    );
    const contactIds = new Set(emails.flatMap((e) => (e.contactId ? [e.contactId] : [])));
    for (const i of invitations.values()) if (i.inviterContactId) contactIds.add(i.inviterContactId);
    const contacts = new Map((await findContactsByIds(deps.db, [...contactIds])).map((c) => [c.id, c]));
    const ownerIds = [...new Set([...invitations.values()].map((i) => i.ownerId))];
    const owners = new Map((await findUsersByIds(deps.db, ownerIds)).map((u) => [u.id, u]));
    const websites = new Map<string, Website>();
    for (const websiteId of new Set([...invitations.values()].map((i) => i.websiteId)))
      websites.set(websiteId, await getWebsite(deps, websiteId));
    return { invitations, contacts, owners, websites, template: await sendTemplate(deps.db) };
  },

  compose(deps, email, ctx) {
    const invitation = email.invitationId ? ctx.invitations.get(email.invitationId) : undefined;
    const contact = email.contactId ? ctx.contacts.get(email.contactId) : undefined;
    const website = invitation && ctx.websites.get(invitation.websiteId);
    if (!invitation || !contact || !website) return { refused: 'INVITATION_OR_CONTACT_MISSING' };
    const status = deriveStatus(invitation, deps.now());
    if (status !== 'new' && status !== 'sent')
      return { refused: `INVITATION_NOT_SENDABLE: the invitation is ${status}` };
    const inviter = invitation.inviterContactId
      ? (ctx.contacts.get(invitation.inviterContactId) ?? null)
      : null;
    return invitationMessage(
      deps.keys,
      { key: ctx.template.key, source: ctx.template.template },
      { invitation, website, contact, inviter, owner: ctx.owners.get(invitation.ownerId) ?? null },
    );
  },

  async accepted(deps, emails) {
    const ids = [...new Set(emails.flatMap((e) => (e.invitationId ? [e.invitationId] : [])))];
    await repo.markSent(deps.db, ids, deps.now().toISOString());
  },
};
