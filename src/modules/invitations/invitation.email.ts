import type { Keys } from '../../keys.ts';
import { type CompiledTemplate, type Rendered, render } from '../../mail/liquid.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import type { User } from '../users/user.service.ts';
import type { Workflow } from '../workflows/workflow.service.ts';
import { deriveCode } from './invitation.code.ts';
import type { InvitationRow } from './invitation.repository.ts';
import { redemptionUrl } from './invitation.rules.ts';

/**
 * The invitation email's pure parts: its Liquid variables (SPEC 4), its sender, its Message-ID, and
 * the masking that keeps the code out of the stored copy.
 */
export interface EmailVarsInput {
  invitation: InvitationRow;
  code: string;
  redemptionUrl: string;
  website: { name: string; baseUrl: string };
  contact: Pick<ContactRow, 'firstName' | 'lastName' | 'email'>;
  inviter: Pick<ContactRow, 'firstName' | 'lastName' | 'email'> | null;
  owner: Pick<User, 'name' | 'email'> | null;
}

const fullName = (c: { firstName: string; lastName: string }) => `${c.firstName} ${c.lastName}`.trim();

const dayFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });
const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

/** "December 6, 2026 at 12:00 UTC": the expiry as people read it (formatters built once). */
export const readableInstant = (iso: string): string => {
  const d = new Date(iso);
  return `${dayFormat.format(d)} at ${timeFormat.format(d)} UTC`;
};

export function emailVars(p: EmailVarsInput): Record<string, unknown> {
  return {
    contact: {
      firstName: p.contact.firstName,
      lastName: p.contact.lastName,
      fullName: fullName(p.contact),
      email: p.contact.email ?? '',
    },
    invitation: {
      name: p.invitation.name,
      type: p.invitation.type,
      expiresAt: p.invitation.expiresAt ?? '',
      expiresOn: p.invitation.expiresAt ? readableInstant(p.invitation.expiresAt) : '',
      code: p.code,
      redemptionUrl: p.redemptionUrl,
    },
    website: { name: p.website.name, baseUrl: p.website.baseUrl },
    inviter: { fullName: p.inviter ? fullName(p.inviter) : '', email: p.inviter?.email ?? '' },
    owner: { name: p.owner?.name ?? '', email: usableAddress(p.owner?.email) ?? '' },
  };
}

/** Addresses under the reserved .invalid domain (the bootstrap user's) cannot send mail. */
const usableAddress = (email: string | null | undefined): string | null =>
  email && !/\.invalid$/i.test(email) ? email : null;

/** From: the workflow's fromAddress, else the invitation owner, else MAIL_FROM. */
export function senderOf(
  workflow: Pick<Workflow, 'fromAddress'>,
  owner: Pick<User, 'name' | 'email'> | null,
  mailFrom: string,
): string {
  if (workflow.fromAddress) return workflow.fromAddress;
  const ownerEmail = usableAddress(owner?.email);
  if (owner && ownerEmail) return `"${owner.name.replace(/["\\\r\n]/g, '')}" <${ownerEmail}>`;
  return mailFrom;
}

/** Our Message-ID for an Email record: `<id@domain-of-MAIL_FROM>`. */
export function messageIdFor(emailId: string, mailFrom: string, publicUrl: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(mailFrom)?.[1] ?? new URL(publicUrl).hostname;
  return `<${emailId}@${domain}>`;
}

/**
 * The stored copy of a sent message keeps everything but the code: the code (grouped, compact and
 * URL-encoded) becomes its first group followed by bullets. The database never holds a redeemable
 * code, and an administrator still sees which invitation an email carried.
 */
export function maskCode(body: string, code: string): string {
  const masked = `${code.slice(0, 4)}-••••`;
  const forms = [code, code.replace(/-/g, ''), encodeURIComponent(code)];
  let out = body;
  for (const f of forms) out = out.split(f).join(masked);
  return out;
}

/**
 * The invitation email for one contact: `message` carries the real code (it is what is sent);
 * `stored` is the same with the code masked (what the database and previews keep).
 */
export function renderInvitationEmail(
  keys: Keys,
  template: CompiledTemplate,
  p: Omit<EmailVarsInput, 'code' | 'redemptionUrl'>,
): { message: Rendered; stored: Rendered } {
  const code = deriveCode(keys, p.invitation.id, p.invitation.codeVersion);
  const message = render(
    template,
    emailVars({ ...p, code, redemptionUrl: redemptionUrl(p.website.baseUrl, code) }),
  );
  const stored = {
    subject: maskCode(message.subject, code),
    html: maskCode(message.html, code),
    text: maskCode(message.text, code),
  };
  return { message, stored };
}
