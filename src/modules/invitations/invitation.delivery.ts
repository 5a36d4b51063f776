import type { Deps } from '../../context.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { backoffMs, type Job, RetryLater } from '../../jobs/worker.ts';
import { render } from '../../mail/liquid.ts';
import { MailError } from '../../mail/mailer.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import { findContactRows } from '../contacts/contact.service.ts';
import {
  type Email,
  findDeliverable,
  isSendingPaused,
  pauseSending,
  recordAttempt,
  setEmailStatus,
} from '../emails/email.service.ts';
import { findUsersByIds } from '../users/user.service.ts';
import { getWebsite, type Website } from '../websites/website.service.ts';
import { sendTemplate } from '../workflows/workflow.service.ts';
import { deriveCode } from './invitation.code.ts';
import { emailVars, maskCode } from './invitation.email.ts';
import * as repo from './invitation.repository.ts';
import { deriveStatus, redemptionUrl } from './invitation.rules.ts';
import { DELIVER_JOB } from './send.service.ts';

/**
 * The Send Invitation workflow's second half: the `invitation-email.deliver` job. For each email of
 * the job still pending, it renders the template with the invitation's code, hands the message to the
 * mailer, and records the outcome at once (so a crash repeats at most the messages in flight):
 * - accepted: the Email is `sent` (its stored copy with the code masked) and the invitation `sent`;
 * - 4xx: this email is retried alone later with backoff, and fails after MAX_EMAIL_ATTEMPTS;
 * - 5xx: the Email is `failed` with the server's reply; never retried by itself;
 * - connection trouble: the unsent emails go back to pending and the job retries with backoff;
 * - credentials refused: sending pauses (GET /mail/status says why) and the job waits.
 */
export const MAX_EMAIL_ATTEMPTS = 8;
const PAUSED_RECHECK_MS = 30_000;

export interface DeliveryOptions {
  /** Backoff of a single email's 4xx retries. */
  retryBaseMs: number;
  retryCapMs: number;
}

export function deliverInvitationEmails(options: DeliveryOptions) {
  return async (job: Job, deps: Deps): Promise<void> => {
    const ids = (job.payload.emailIds as string[] | undefined) ?? [];
    const paused = await isSendingPaused(deps.db);
    if (paused) throw new RetryLater(PAUSED_RECHECK_MS, `sending is paused: ${paused}`);
    const emails = await findDeliverable(deps.db, ids);
    if (emails.length === 0) return;
    await setEmailStatus(
      deps.db,
      emails.map((e) => e.id),
      'sending',
      deps.now().toISOString(),
    );
    const context = await loadContext(deps, emails);

    let stop: MailError | null = null;
    const left: Email[] = [];
    const queue = [...emails];
    const lane = async () => {
      for (let email = queue.shift(); email; email = queue.shift()) {
        if (stop) {
          left.push(email);
          continue;
        }
        const outcome = await deliverOne(deps, options, email, context);
        if (outcome) {
          stop = outcome;
          left.push(email);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(emails.length, deps.mailer.parallelism * 2) }, lane));

    if (stop !== null) {
      const reason = (stop as MailError).message;
      await setEmailStatus(
        deps.db,
        left.map((e) => e.id),
        'pending',
        deps.now().toISOString(),
        reason,
      );
      if ((stop as MailError).failure === 'auth') {
        await pauseSending(
          deps.db,
          `The mail server refused the credentials in SMTP_URL: ${reason}`,
          deps.now().toISOString(),
        );
        throw new RetryLater(PAUSED_RECHECK_MS, reason);
      }
      throw new Error(`mail server unreachable: ${reason}`);
    }
  };
}

interface Context {
  invitations: Map<string, repo.InvitationRow>;
  contacts: Map<string, ContactRow>;
  owners: Map<string, { name: string; email: string }>;
  websites: Map<string, Website>;
  template: Awaited<ReturnType<typeof sendTemplate>>;
}

async function loadContext(deps: Deps, emails: readonly Email[]): Promise<Context> {
  const invitations = new Map(
    (
      await repo.findInvitationsByIds(deps.db, [
        ...new Set(emails.flatMap((e) => (e.invitationId ? [e.invitationId] : []))),
      ])
    ).map((i) => [i.id, i]),
  );
  const contactIds = new Set(emails.flatMap((e) => (e.contactId ? [e.contactId] : [])));
  for (const i of invitations.values()) if (i.inviterContactId) contactIds.add(i.inviterContactId);
  const contacts = new Map((await findContactRows(deps.db, [...contactIds])).map((c) => [c.id, c]));
  const owners = new Map(
    (await findUsersByIds(deps.db, [...new Set([...invitations.values()].map((i) => i.ownerId))])).map(
      (u) => [u.id, u],
    ),
  );
  const websites = new Map<string, Website>();
  for (const websiteId of new Set([...invitations.values()].map((i) => i.websiteId))) {
    websites.set(websiteId, await getWebsite(deps, websiteId));
  }
  return { invitations, contacts, owners, websites, template: await sendTemplate(deps.db) };
}

/** Delivers one email and records the outcome; returns the error that must stop the batch, if any. */
async function deliverOne(
  deps: Deps,
  options: DeliveryOptions,
  email: Email,
  ctx: Context,
): Promise<MailError | null> {
  const now = () => deps.now().toISOString();
  const invitation = email.invitationId ? ctx.invitations.get(email.invitationId) : undefined;
  const contact = email.contactId ? ctx.contacts.get(email.contactId) : undefined;
  const website = invitation && ctx.websites.get(invitation.websiteId);
  if (!invitation || !contact || !website || email.to === null) {
    await recordAttempt(deps.db, email.id, {
      status: 'failed',
      subject: null,
      html: null,
      text: null,
      lastError: 'INVITATION_OR_CONTACT_MISSING',
      sentAt: null,
      now: now(),
    });
    return null;
  }
  const status = deriveStatus(invitation, deps.now());
  if (status !== 'new' && status !== 'sent') {
    await recordAttempt(deps.db, email.id, {
      status: 'failed',
      subject: null,
      html: null,
      text: null,
      lastError: `INVITATION_NOT_SENDABLE: the invitation is ${status}`,
      sentAt: null,
      now: now(),
    });
    return null;
  }
  const code = deriveCode(deps.keys, invitation.id, invitation.codeVersion);
  const url = redemptionUrl(website.baseUrl, code);
  const inviter = invitation.inviterContactId
    ? (ctx.contacts.get(invitation.inviterContactId) ?? null)
    : null;
  const rendered = render(
    ctx.template.compiled,
    emailVars({
      invitation,
      code,
      redemptionUrl: url,
      website,
      contact,
      inviter,
      owner: ctx.owners.get(invitation.ownerId) ?? null,
    }),
  );
  const stored = {
    subject: maskCode(rendered.subject, code),
    html: maskCode(rendered.html, code),
    text: maskCode(rendered.text, code),
  };
  try {
    await deps.mailer.send({ messageId: email.messageId, from: email.from, to: email.to, ...rendered });
  } catch (err) {
    const e = err instanceof MailError ? err : new MailError('connection', String(err));
    if (e.failure === 'connection' || e.failure === 'auth') return e;
    const attempts = email.attempts + 1;
    if (e.failure === 'permanent' || attempts >= MAX_EMAIL_ATTEMPTS) {
      await recordAttempt(deps.db, email.id, {
        status: 'failed',
        ...stored,
        lastError: e.message,
        sentAt: null,
        now: now(),
      });
      return null;
    }
    const at = deps.now();
    await deps.db.transaction().execute(async (trx) => {
      await recordAttempt(trx, email.id, {
        status: 'pending',
        ...stored,
        lastError: e.message,
        sentAt: null,
        now: at.toISOString(),
      });
      const delay = backoffMs(attempts, options.retryBaseMs, options.retryCapMs);
      await enqueue(trx, at, {
        type: DELIVER_JOB,
        payload: { emailIds: [email.id] },
        runAt: new Date(at.getTime() + delay).toISOString(),
      });
    });
    return null;
  }
  const at = now();
  await deps.db.transaction().execute(async (trx) => {
    await recordAttempt(trx, email.id, { status: 'sent', ...stored, lastError: null, sentAt: at, now: at });
    await repo.markSent(trx, invitation.id, at);
  });
  return null;
}
