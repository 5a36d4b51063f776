import { createHash } from 'node:crypto';
import type { Deps } from '../../context.ts';
import { invalid } from '../../errors.ts';
import { compileTemplate, type Rendered, type TemplateSource, unknownVariables } from '../../mail/liquid.ts';
import { findContact } from '../contacts/contact.ts';
import { findUser } from '../users/user.ts';
import { getWebsite, listWebsites } from '../websites/website.ts';
import { getTemplate, templateKey } from '../workflows/workflow.ts';
import { type EmailVarsInput, emailVars, invitationMessage } from './invitation.email.ts';
import type { InvitationRow } from './invitation.repository.ts';
import * as repo from './invitation.repository.ts';

export interface PreviewInput {
  /** The invitation to render; without it, sample data (on `websiteId`, else the first website). */
  invitationId?: string;
  contactId?: string;
  websiteId?: string;
  draft?: TemplateSource;
}

export interface Preview extends Rendered {
  to: string | null;
  /** Whether sample data stood in for an invitation. */
  sample: boolean;
  /** Variables the template reads that an invitation email does not have (they render empty). */
  unknownVariables: string[];
}

const DAY = 86_400_000;

/**
 * Renders a template (or an unsaved `draft` of its parts) against a real invitation and one of its
 * invited contacts (the first, unless named), exactly as delivery would, with the code masked as in
 * the stored copy of a sent email; or, without an invitation, against sample data. A draft that is
 * not valid Liquid is a 400 naming the part; variables no invitation email has are listed.
 */
export async function previewInvitationEmail(
  deps: Deps,
  templateId: string,
  input: PreviewInput,
): Promise<Preview> {
  const saved = await getTemplate(deps, templateId);
  const { draft } = input;
  if (draft) compileTemplate(draft);
  const source = draft ? { ...saved, ...draft } : saved;
  const key = draft
    ? `draft:${createHash('sha256')
        .update(JSON.stringify([draft.subject, draft.html, draft.text]))
        .digest('hex')}`
    : templateKey(saved);
  const context = input.invitationId
    ? await invitationContext(deps, input.invitationId, input.contactId)
    : await sampleContext(deps, input.websiteId);
  const envelope = {
    messageId: '<preview@admit.invalid>',
    from: 'preview@admit.invalid',
    to: context.contact.email ?? 'preview@admit.invalid',
  };
  const message = invitationMessage(deps.keys, { key, source }, context);
  return {
    to: context.contact.email,
    ...(await deps.mail.render({ ...message, envelope })),
    sample: !input.invitationId,
    unknownVariables: unknownVariables(source, emailVars({ ...context, code: '', redemptionUrl: '' })),
  };
}

type Context = Omit<EmailVarsInput, 'code' | 'redemptionUrl'>;

async function invitationContext(deps: Deps, invitationId: string, contactId?: string): Promise<Context> {
  const invitation = await repo.findInvitation(deps.db, invitationId);
  if (!invitation) throw invalid('/invitationId', `No invitation with id ${invitationId}.`);
  const invited =
    (await repo.findRelations(deps.db, [invitation.id])).get(invitation.id)?.invitedContactIds ?? [];
  const chosen = contactId ?? invited[0];
  const contact = chosen ? await findContact(deps.db, chosen) : undefined;
  if (!contact)
    throw invalid(
      '/contactId',
      'This invitation has no invited contact to address: name one (contactId), or preview with sample data.',
    );
  const inviter = invitation.inviterContactId
    ? ((await findContact(deps.db, invitation.inviterContactId)) ?? null)
    : null;
  return {
    invitation,
    website: await getWebsite(deps, invitation.websiteId),
    contact,
    inviter,
    owner: (await findUser(deps.db, invitation.ownerId)) ?? null,
  };
}

/** A Single invitation for "Alex Sample", on the website named (else the first, else an example). */
async function sampleContext(deps: Deps, websiteId?: string): Promise<Context> {
  const website = websiteId
    ? await getWebsite(deps, websiteId).catch(() => {
        throw invalid('/websiteId', `No website with id ${websiteId}.`);
      })
    : ((await listWebsites(deps, { limit: 1 })).items[0] ?? {
        name: 'Contoso Partners',
        baseUrl: `${deps.config.publicUrl}/portal/contoso`,
      });
  const now = deps.now();
  const invitation: InvitationRow = {
    id: '00000000-0000-7000-8000-000000000000',
    name: 'Alex Sample',
    type: 'single',
    websiteId: 'id' in website ? website.id : '00000000-0000-7000-8000-000000000000',
    ownerId: '00000000-0000-7000-8000-000000000000',
    inviterContactId: null,
    expiresAt: new Date(now.getTime() + 14 * DAY).toISOString(),
    assignToAccountId: null,
    redemptionWorkflowId: null,
    maxRedemptions: 1,
    redemptionCount: 0,
    invitedContactsOnly: false,
    state: 'active',
    statusReason: 'new',
    codeVersion: 1,
    lastSentAt: null,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  return {
    invitation,
    website,
    contact: { firstName: 'Alex', lastName: 'Sample', email: 'alex.sample@example.com' },
    inviter: { firstName: 'Jordan', lastName: 'Inviter', email: 'jordan@example.com' },
    owner: { name: 'Sam Owner', email: 'sam.owner@example.com' },
  };
}
