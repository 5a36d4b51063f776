import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import type { TemplateSource } from '../../mail/liquid.ts';
import { type Contact, findContactsByIds } from '../contacts/contact.ts';
import { deliveryJobs, insertEmails, type MessageSource, newEmail } from '../emails/email.ts';
import { findHeldRegistrationAddress, heldRegistrationToken } from '../invitations/invitation.ts';
import { getWebsite, type Website } from '../websites/website.ts';
import { findTokenAddress, issueToken, type TokenPurpose, tokenFor } from './contact-token.ts';

/**
 * The portal's own emails: "confirm your email", "reset your password" and the link of a held
 * registration. Written like invitation emails (an Email record and its delivery job in the caller's
 * transaction, SMTP only after commit) and delivered by the same delivery (emails/email.delivery.ts),
 * which asks `portalMessages` to compose them from built-in Liquid templates, the token masked in
 * the stored copy.
 */

/** What a portal email is for: a contact token's purpose, or confirming a held registration. */
export type PortalEmailKind = TokenPurpose | 'confirm-registration';
export const PORTAL_EMAIL_KINDS: readonly PortalEmailKind[] = [
  'confirm-registration',
  'confirm-email',
  'reset-password',
];

const TEMPLATES: Record<PortalEmailKind, TemplateSource & { path: string }> = {
  'confirm-registration': {
    path: 'confirm-registration',
    subject: 'Confirm your email to accept your invitation to {{ website.name }}',
    html: `<p>Hello {{ contact.firstName }},</p>
<p>Someone registered with {{ email }} to accept an invitation to {{ website.name }}. If it was you, open this link within a day and enter the password you chose:</p>
<p><a href="{{ link }}">Confirm my email and accept the invitation</a></p>
<p>Or open this link: {{ link }}</p>
<p>If it was not you, ignore this message: nothing changes.</p>`,
    text: `Hello {{ contact.firstName }},

Someone registered with {{ email }} to accept an invitation to {{ website.name }}. If it was you, open this link within a day and enter the password you chose:
{{ link }}

If it was not you, ignore this message: nothing changes.`,
  },
  'confirm-email': {
    path: 'confirm-email',
    subject: 'Confirm your email for {{ website.name }}',
    html: `<p>Hello {{ contact.firstName }},</p>
<p>Confirm that {{ email }} is your email address for {{ website.name }}:</p>
<p><a href="{{ link }}">Confirm my email</a></p>
<p>Or open this link: {{ link }}</p>
<p>If you did not ask for this, ignore this message.</p>`,
    text: `Hello {{ contact.firstName }},

Confirm that {{ email }} is your email address for {{ website.name }}:
{{ link }}

If you did not ask for this, ignore this message.`,
  },
  'reset-password': {
    path: 'reset-password',
    subject: 'Reset your password for {{ website.name }}',
    html: `<p>Hello {{ contact.firstName }},</p>
<p>Someone asked to reset the password of your {{ website.name }} account. To choose a new password, open this link within an hour:</p>
<p><a href="{{ link }}">Choose a new password</a></p>
<p>Or open this link: {{ link }}</p>
<p>If it was not you, ignore this message: your password stays as it is.</p>`,
    text: `Hello {{ contact.firstName }},

Someone asked to reset the password of your {{ website.name }} account. To choose a new password, open this link within an hour:
{{ link }}

If it was not you, ignore this message: your password stays as it is.`,
  },
};

/** Issues a contact token and queues its email to `to`, in one transaction. */
export async function mailToken(
  deps: Deps,
  website: Website,
  contact: Contact,
  purpose: TokenPurpose,
  to: string,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const tokenId = await issueToken(trx, deps, {
      contactId: contact.id,
      websiteId: website.id,
      purpose,
      email: to,
    });
    await queueContactEmail(trx, deps, { contactId: contact.id, to, kind: purpose, tokenId });
  });
  deps.notifyJobs();
}

/**
 * Queues the email for `tokenId` (a contact token, or a held registration for
 * 'confirm-registration') to `to`, inside the caller's transaction.
 */
export async function queueContactEmail(
  trx: Conn,
  deps: Deps,
  m: { contactId: string | null; to: string; kind: PortalEmailKind; tokenId: string },
): Promise<void> {
  const now = deps.now();
  const email = newEmail(
    deps,
    {
      kind: m.kind,
      sourceId: m.tokenId,
      invitationId: null,
      contactId: m.contactId,
      to: m.to,
      from: deps.config.mailFrom,
    },
    now.toISOString(),
  );
  await insertEmails(trx, [email]);
  await enqueue(trx, now, deliveryJobs([email.id]));
}

/** Where an email's link goes: its website, the address it confirms, and the token in the link. */
interface LinkTarget {
  websiteId: string;
  email: string | null;
  secret: string;
}

interface Context {
  targets: Map<string, LinkTarget>;
  contacts: Map<string, Contact>;
  websites: Map<string, Website>;
}

/**
 * Composes the portal's emails. Refused (the email fails with the reason, never sent): a token or
 * held registration that is gone, used or expired (TOKEN_NOT_VALID), and a password reset whose
 * address is no longer the contact's primary email (ADDRESS_CHANGED: a link to set the password
 * goes only where the contact's mail goes now).
 */
export const portalMessages: MessageSource<Context> = {
  async load(deps, emails) {
    const targets = new Map<string, LinkTarget>();
    for (const e of emails) {
      const target = e.sourceId ? await linkTarget(deps, e.kind as PortalEmailKind, e.sourceId) : undefined;
      if (target) targets.set(e.id, target);
    }
    const contactIds = [...new Set(emails.flatMap((e) => (e.contactId ? [e.contactId] : [])))];
    const contacts = new Map((await findContactsByIds(deps.db, contactIds)).map((c) => [c.id, c]));
    const websites = new Map<string, Website>();
    for (const websiteId of new Set([...targets.values()].map((t) => t.websiteId)))
      websites.set(websiteId, await getWebsite(deps, websiteId));
    return { targets, contacts, websites };
  },

  compose(_deps, email, ctx) {
    const template = TEMPLATES[email.kind as PortalEmailKind];
    const target = ctx.targets.get(email.id);
    const website = target && ctx.websites.get(target.websiteId);
    const contact = email.contactId ? ctx.contacts.get(email.contactId) : undefined;
    if (!template || (email.contactId && !contact)) return { refused: 'CONTACT_OR_TOKEN_MISSING' };
    if (!target || !website) return { refused: 'TOKEN_NOT_VALID: the link has expired or was used' };
    if (email.kind === 'reset-password' && contact?.email?.toLowerCase() !== email.to.toLowerCase())
      return { refused: "ADDRESS_CHANGED: the address is no longer the contact's primary email" };
    return {
      templateKey: `builtin:${email.kind}:1`,
      template,
      vars: varsOf(
        website,
        contact,
        target.email ?? email.to,
        `${website.baseUrl}/${template.path}?token=${target.secret}`,
      ),
      secrets: [target.secret],
      mask: '[token]',
    };
  },
};

/** The website, address and secret of an email's link; undefined when its token is gone. */
async function linkTarget(
  deps: Deps,
  kind: PortalEmailKind,
  tokenId: string,
): Promise<LinkTarget | undefined> {
  if (kind === 'confirm-registration') {
    const held = await findHeldRegistrationAddress(deps.db, tokenId, deps.now());
    return (
      held && { websiteId: held.websiteId, email: held.email, secret: heldRegistrationToken(deps, tokenId) }
    );
  }
  const token = await findTokenAddress(deps.db, tokenId, deps.now());
  return token && { websiteId: token.websiteId, email: token.email, secret: tokenFor(deps, tokenId) };
}

const varsOf = (website: Website, contact: Contact | undefined, email: string, link: string) => ({
  website: { name: website.name, baseUrl: website.baseUrl },
  contact: { firstName: contact?.firstName || 'there', lastName: contact?.lastName ?? '' },
  email,
  link,
});
