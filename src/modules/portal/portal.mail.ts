import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { type Job, PermanentJobError } from '../../jobs/worker.ts';
import type { TemplateSource } from '../../mail/liquid.ts';
import { messageIdFor } from '../../mail/mailer.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import { findContactRow } from '../contacts/contact.service.ts';
import { findEmailsByIds, insertEmails, recordAttempt } from '../emails/email.service.ts';
import { findHeldRegistrationAddress, heldRegistrationToken } from '../invitations/held-registration.ts';
import { getWebsite, type Website } from '../websites/website.service.ts';
import { findTokenAddress, issueToken, type TokenPurpose, tokenFor } from './contact-token.ts';

/**
 * The portal's own emails: "confirm your email" and "reset your password". Queued like invitation
 * emails (an Email record and a job in the caller's transaction, SMTP only after commit), rendered
 * from built-in Liquid templates, with the token masked in the stored copy.
 */
export const CONTACT_EMAIL_JOB = 'contact-email.deliver';

/** What a portal email is for: a contact token's purpose, or confirming a held registration. */
export type ContactEmailPurpose = TokenPurpose | 'confirm-registration';

const TEMPLATES: Record<ContactEmailPurpose, TemplateSource & { path: string }> = {
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
  contact: ContactRow,
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
    await queueContactEmail(trx, deps, { contactId: contact.id, to, purpose, tokenId });
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
  m: { contactId: string | null; to: string; purpose: ContactEmailPurpose; tokenId: string },
): Promise<void> {
  const now = deps.now();
  const at = now.toISOString();
  const id = newId();
  await insertEmails(trx, [
    {
      id,
      invitationId: null,
      contactId: m.contactId,
      to: m.to,
      from: deps.config.mailFrom,
      subject: null,
      html: null,
      text: null,
      status: 'pending',
      attempts: 0,
      lastError: null,
      messageId: messageIdFor(id, deps.config.mailFrom, deps.config.publicUrl),
      sentAt: null,
      createdAt: at,
      updatedAt: at,
    },
  ]);
  await enqueue(trx, now, {
    type: CONTACT_EMAIL_JOB,
    payload: { emailId: id, tokenId: m.tokenId, purpose: m.purpose },
    maxAttempts: 10,
  });
}

/** The job: render, send, record. Temporary failures throw, so the worker retries with backoff. */
export async function deliverContactEmail(job: Job, deps: Deps): Promise<void> {
  const { emailId, tokenId, purpose } = job.payload as {
    emailId: string;
    tokenId: string;
    purpose: ContactEmailPurpose;
  };
  const [email] = await findEmailsByIds(deps.db, [emailId]);
  if (!email || email.status === 'sent' || email.status === 'failed') return;
  const template = TEMPLATES[purpose];
  if (!template) throw new PermanentJobError(`unknown contact email purpose ${purpose}`);
  const contact = email.contactId ? await findContactRow(deps.db, email.contactId) : undefined;
  const target = await linkTarget(deps, purpose, tokenId);
  if (!target || email.to === null || (email.contactId && !contact))
    throw new PermanentJobError('contact or token missing');
  const website = await getWebsite(deps, target.websiteId);
  const secret = target.secret;
  const request = {
    templateKey: `builtin:${purpose}:1`,
    template,
    vars: varsOf(
      website,
      contact,
      target.email ?? email.to,
      `${website.baseUrl}/${template.path}?token=${secret}`,
    ),
    envelope: { messageId: email.messageId, from: email.from, to: email.to },
    secrets: [secret],
    mask: '[token]',
  };
  await deps.post.send(request, async (posted) => {
    const record = (status: 'sent' | 'pending' | 'failed', lastError: string | null) => {
      const now = deps.now().toISOString();
      return recordAttempt(deps.db, email.id, {
        status,
        attempts: email.attempts + 1,
        ...posted.stored,
        lastError,
        sentAt: status === 'sent' ? now : null,
        now,
      });
    };
    if (!posted.error) return record('sent', null);
    if (posted.error.failure === 'permanent') return record('failed', posted.error.message);
    await record('pending', posted.error.message);
    throw posted.error;
  });
}

/** The website, address and secret of an email's link; undefined when its token is gone. */
async function linkTarget(deps: Deps, purpose: ContactEmailPurpose, tokenId: string) {
  if (purpose === 'confirm-registration') {
    const held = await findHeldRegistrationAddress(deps.db, tokenId);
    return (
      held && { websiteId: held.websiteId, email: held.email, secret: heldRegistrationToken(deps, tokenId) }
    );
  }
  const token = await findTokenAddress(deps.db, tokenId);
  return token && { websiteId: token.websiteId, email: token.email, secret: tokenFor(deps, tokenId) };
}

const varsOf = (website: Website, contact: ContactRow | undefined, email: string, link: string) => ({
  website: { name: website.name, baseUrl: website.baseUrl },
  contact: { firstName: contact?.firstName || 'there', lastName: contact?.lastName ?? '' },
  email,
  link,
});
