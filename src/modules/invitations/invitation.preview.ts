import { createHash } from 'node:crypto';
import type { Deps } from '../../context.ts';
import { invalid } from '../../errors.ts';
import { compileTemplate, type Rendered, type TemplateSource } from '../../mail/liquid.ts';
import { findContact } from '../contacts/contact.ts';
import { findUser } from '../users/user.ts';
import { getWebsite } from '../websites/website.ts';
import { getTemplate, templateKey } from '../workflows/workflow.ts';
import { invitationMessage } from './invitation.email.ts';
import * as repo from './invitation.repository.ts';

/**
 * Renders a template (or an unsaved `draft` of its parts) against a real invitation and one of its
 * invited contacts (the first, unless named), exactly as delivery would, with the code masked as in
 * the stored copy of a sent email. A draft that is not valid Liquid is a 400 naming the part.
 */
export async function previewInvitationEmail(
  deps: Deps,
  templateId: string,
  input: { invitationId: string; contactId?: string; draft?: TemplateSource },
): Promise<Rendered & { to: string | null }> {
  const saved = await getTemplate(deps, templateId);
  const { draft } = input;
  if (draft) compileTemplate(draft);
  const source = draft ? { ...saved, ...draft } : saved;
  const key = draft
    ? `draft:${createHash('sha256')
        .update(JSON.stringify([draft.subject, draft.html, draft.text]))
        .digest('hex')}`
    : templateKey(saved);
  const invitation = await repo.findInvitation(deps.db, input.invitationId);
  if (!invitation) throw invalid('/invitationId', `No invitation with id ${input.invitationId}.`);
  const invited =
    (await repo.findRelations(deps.db, [invitation.id])).get(invitation.id)?.invitedContactIds ?? [];
  const contactId = input.contactId ?? invited[0];
  const contact = contactId ? await findContact(deps.db, contactId) : undefined;
  if (!contact) throw invalid('/contactId', 'Name a contact: the invitation has no invited contacts.');
  const website = await getWebsite(deps, invitation.websiteId);
  const inviter = invitation.inviterContactId
    ? ((await findContact(deps.db, invitation.inviterContactId)) ?? null)
    : null;
  const envelope = {
    messageId: '<preview@admit.invalid>',
    from: 'preview@admit.invalid',
    to: contact.email ?? 'preview@admit.invalid',
  };
  const message = invitationMessage(
    deps.keys,
    { key, source },
    {
      invitation,
      website,
      contact,
      inviter,
      owner: (await findUser(deps.db, invitation.ownerId)) ?? null,
    },
  );
  return { to: contact.email, ...(await deps.mail.render({ ...message, envelope })) };
}
