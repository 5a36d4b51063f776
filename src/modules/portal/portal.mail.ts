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
import { getWebsite, type Website } from '../websites/website.service.ts';
import { type TokenPurpose, tokenFor } from './contact-token.ts';

/**
 * The portal's own emails: "confirm your email" and "reset your password". Queued like invitation
 * emails (an Email record and a job in the caller's transaction, SMTP only after commit), rendered
 * from built-in Liquid templates, with the token masked in the stored copy.
 */
export const CONTACT_EMAIL_JOB = 'contact-email.deliver';

const TEMPLATES: Record<TokenPurpose, TemplateSource & { path: string }> = {
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

/** Queues the email for `tokenId` to `to` (inside the caller's transaction). */
export async function queueContactEmail(
  trx: Conn,
  deps: Deps,
  m: { contactId: string; to: string; purpose: TokenPurpose; tokenId: string },
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
    purpose: TokenPurpose;
  };
  const [email] = await findEmailsByIds(deps.db, [emailId]);
  if (!email || email.status === 'sent' || email.status === 'failed') return;
  const template = TEMPLATES[purpose];
  if (!template) throw new PermanentJobError(`unknown contact email purpose ${purpose}`);
  const contact = email.contactId ? await findContactRow(deps.db, email.contactId) : undefined;
  const token = await deps.db
    .selectFrom('contact_tokens')
    .select(['website_id', 'email'])
    .where('id', '=', tokenId)
    .executeTakeFirst();
  if (!contact || !token || email.to === null) throw new PermanentJobError('contact or token missing');
  const website = await getWebsite(deps, token.website_id);
  const secret = tokenFor(deps, tokenId);
  const request = {
    templateKey: `builtin:${purpose}:1`,
    template,
    vars: varsOf(
      website,
      contact,
      token.email ?? email.to,
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

const varsOf = (website: Website, contact: ContactRow, email: string, link: string) => ({
  website: { name: website.name, baseUrl: website.baseUrl },
  contact: { firstName: contact.firstName || 'there', lastName: contact.lastName },
  email,
  link,
});
