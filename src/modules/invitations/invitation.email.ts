import type { Keys } from '../../keys.ts';
import type { TemplateSource } from '../../mail/liquid.ts';
import type { Contact } from '../contacts/contact.ts';
import type { Message } from '../emails/email.ts';
import type { User } from '../users/user.ts';
import type { Workflow } from '../workflows/workflow.ts';
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
  contact: Pick<Contact, 'firstName' | 'lastName' | 'email'>;
  inviter: Pick<Contact, 'firstName' | 'lastName' | 'email'> | null;
  owner: Pick<User, 'name' | 'email'> | null;
}

const fullName = (c: { firstName: string; lastName: string }) => `${c.firstName} ${c.lastName}`.trim();

const dayFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });
const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

/** "December 6, 2026 at 12:00 UTC": an instant as people read it. */
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
export function fromAddressOf(
  workflow: Pick<Workflow, 'fromAddress'>,
  owner: Pick<User, 'name' | 'email'> | null,
  mailFrom: string,
): string {
  if (workflow.fromAddress) return workflow.fromAddress;
  const ownerEmail = usableAddress(owner?.email);
  if (owner && ownerEmail) return `"${owner.name.replace(/["\\\r\n]/g, '')}" <${ownerEmail}>`;
  return mailFrom;
}

/**
 * The stored copy of a sent message keeps everything but the code: the code (grouped, compact and
 * URL-encoded) becomes its first group followed by bullets. The database never holds a redeemable
 * code, and an administrator still sees which invitation an email carried.
 */
export const codeSpellings = (code: string): string[] => [
  code,
  code.replace(/-/g, ''),
  encodeURIComponent(code),
];
export const codeMask = (code: string): string => `${code.slice(0, 4)}-••••`;

/**
 * The invitation email for one contact, as composing needs it (mail/compose.ts does the work): the
 * template, the variables with the real code, and the code's spellings to mask in the stored copy.
 */
export function invitationMessage(
  keys: Keys,
  template: { key: string; source: TemplateSource },
  p: Omit<EmailVarsInput, 'code' | 'redemptionUrl'>,
): Message {
  const code = deriveCode(keys, p.invitation.id, p.invitation.codeVersion);
  return {
    templateKey: template.key,
    template: template.source,
    vars: emailVars({ ...p, code, redemptionUrl: redemptionUrl(p.website.baseUrl, code) }),
    secrets: codeSpellings(code),
    mask: codeMask(code),
  };
}
