import type { Deps } from '../../context.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { backoffMs, type Job, RetryLater } from '../../jobs/worker.ts';
import { MailError } from '../../mail/mailer.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import { findContactRows } from '../contacts/contact.service.ts';
import {
  type Email,
  recordAttempt,
  recordSent,
  setEmailStatus,
  startSending,
} from '../emails/email.service.ts';
import {
  endMailTrouble,
  mailGate,
  PAUSED_RECHECK_MS,
  pauseSending,
  reportMailTrouble,
} from '../emails/mail-state.service.ts';
import { findUsersByIds } from '../users/user.service.ts';
import { getWebsite, type Website } from '../websites/website.service.ts';
import { sendTemplate } from '../workflows/workflow.service.ts';
import { invitationComposeRequest } from './invitation.email.ts';
import * as repo from './invitation.repository.ts';
import { deriveStatus } from './invitation.rules.ts';
import { DELIVER_JOB } from './send.service.ts';

/**
 * The Send Invitation workflow's second half: the `invitation-email.deliver` job. For each email of
 * the job still pending, it renders the template with the invitation's code, hands the message to the
 * post (composed and sent on a mail thread), and records the outcome at once. An accepted message
 * holds its place in the post's sending window until it is recorded, so a crash sends again at most
 * the SMTP pool size of messages (window.ts).
 * - accepted: the Email is `sent` (its stored copy has the code masked);
 * - 4xx: this email is retried alone later with backoff, and fails after MAX_EMAIL_ATTEMPTS;
 * - 5xx: the Email is `failed` with the server's reply; never retried by itself;
 * - connection trouble or 421: the unsent emails go back to pending, the server is marked in trouble
 *   (GET /mail/status), and the job waits, without spending an attempt, for the probe that finds the
 *   server back (mail-state.service.ts); the probe sends one email alone, then the rest follow;
 * - credentials refused: sending pauses (GET /mail/status says why) and the job waits.
 * When the job ends, however it ends, the invitations with an accepted email become `sent`; a job run
 * again after a crash does this for the emails its first run recorded.
 */
export const MAX_EMAIL_ATTEMPTS = 8;

export interface DeliveryOptions {
  /** Backoff of a single email's 4xx retries. */
  retryBaseMs: number;
  retryCapMs: number;
}

export function deliverInvitationEmails(options: DeliveryOptions) {
  return async (job: Job, deps: Deps): Promise<void> => {
    const ids = job.payload.emailIds as string[];
    const gate = await mailGate(deps.db, deps.now());
    if (gate.kind === 'paused') throw new RetryLater(PAUSED_RECHECK_MS, `sending is paused: ${gate.reason}`);
    if (gate.kind === 'wait') throw new RetryLater(gate.ms + Math.round(Math.random() * 250), gate.reason);
    const all = await startSending(deps.db, ids, deps.now().toISOString());
    const emails = all.filter((e) => e.status === 'sending');
    // A job run again after a crash may hold emails its first run sent: their invitations are marked
    // below with this run's.
    const sentTo = new Set(
      all.filter((e) => e.status === 'sent' && e.invitationId).map((e) => e.invitationId as string),
    );
    try {
      if (emails.length > 0) await deliver(deps, options, emails, sentTo, gate.kind === 'probe');
    } finally {
      await repo.markSent(deps.db, [...sentTo], deps.now().toISOString());
    }
  };
}

async function deliver(
  deps: Deps,
  options: DeliveryOptions,
  emails: Email[],
  sentTo: Set<string>,
  probe: boolean,
): Promise<void> {
  const context = await loadContext(deps, emails);
  let stop: MailError | null = null;
  // An error no outcome explains, such as a record the database refused: the lanes take no more
  // emails, and the job fails only once the emails in flight have finished. A job that failed at
  // once left its other lanes sending beside its own retry, which sent their emails again.
  let broken: { error: unknown } | null = null;
  const left: Email[] = [];
  const queue = [...emails];
  let sentCount = 0;
  const lane = async (): Promise<void> => {
    for (let email = queue.shift(); email; email = queue.shift()) {
      if (stop || broken) {
        left.push(email);
        continue;
      }
      let outcome: Awaited<ReturnType<typeof deliverOne>>;
      try {
        outcome = await deliverOne(deps, options, email, context);
      } catch (error) {
        broken ??= { error };
        continue;
      }
      if (outcome instanceof MailError) {
        stop = outcome;
        left.push(email);
      } else if (outcome === 'sent') {
        sentCount += 1;
        if (email.invitationId) sentTo.add(email.invitationId);
      }
    }
  };
  if (probe) {
    // One email at a time until the server takes one (an email failed here, before the server was
    // asked, proves nothing); then the others, all lanes at once.
    let accepted = false;
    while (!accepted && !stop && !broken && queue.length > 0) {
      const sentBefore = sentCount;
      const rest = queue.splice(1);
      await lane();
      queue.push(...rest);
      accepted = sentCount > sentBefore;
    }
    if (accepted) await endMailTrouble(deps);
  }
  await Promise.all(Array.from({ length: Math.min(queue.length, deps.post.parallelism * 2) }, lane));
  // The emails not taken stay `sending`: the job's next run takes them with the others.
  if (broken) throw (broken as { error: unknown }).error;
  if (stop === null) return;

  const { failure, message, responseCode } = stop as MailError;
  await setEmailStatus(
    deps.db,
    left.map((e) => e.id),
    'pending',
    deps.now().toISOString(),
    message,
  );
  if (failure === 'auth') {
    await pauseSending(
      deps.db,
      `The mail server refused the credentials in SMTP_URL: ${message}`,
      deps.now().toISOString(),
    );
    throw new RetryLater(PAUSED_RECHECK_MS, message);
  }
  const wait = await reportMailTrouble(deps.db, { responseCode, reply: message, probe }, deps.now());
  throw new RetryLater(wait + Math.round(Math.random() * 250), `mail server unreachable: ${message}`);
}

interface Context {
  invitations: Map<string, repo.InvitationRow>;
  contacts: Map<string, ContactRow>;
  owners: Map<string, { name: string; email: string }>;
  websites: Map<string, Website>;
  template: Awaited<ReturnType<typeof sendTemplate>>;
}

async function loadContext(deps: Deps, emails: readonly Email[]): Promise<Context> {
  const invitationIds = [...new Set(emails.flatMap((e) => (e.invitationId ? [e.invitationId] : [])))];
  const invitations = new Map(
    (await repo.findInvitationsByIds(deps.db, invitationIds)).map((i) => [i.id, i]),
  );
  const contactIds = new Set(emails.flatMap((e) => (e.contactId ? [e.contactId] : [])));
  for (const i of invitations.values()) if (i.inviterContactId) contactIds.add(i.inviterContactId);
  const contacts = new Map((await findContactRows(deps.db, [...contactIds])).map((c) => [c.id, c]));
  const ownerIds = [...new Set([...invitations.values()].map((i) => i.ownerId))];
  const owners = new Map((await findUsersByIds(deps.db, ownerIds)).map((u) => [u.id, u]));
  const websites = new Map<string, Website>();
  for (const websiteId of new Set([...invitations.values()].map((i) => i.websiteId))) {
    websites.set(websiteId, await getWebsite(deps, websiteId));
  }
  return { invitations, contacts, owners, websites, template: await sendTemplate(deps.db) };
}

/** Delivers one email and records the outcome; a MailError means the whole batch must stop. */
async function deliverOne(
  deps: Deps,
  options: DeliveryOptions,
  email: Email,
  ctx: Context,
): Promise<'sent' | 'not sent' | MailError> {
  const attempts = email.attempts + 1;
  const fail = async (
    lastError: string,
    stored: { subject: string | null; html: string | null; text: string | null } = {
      subject: null,
      html: null,
      text: null,
    },
  ) => {
    await recordAttempt(deps.db, email.id, {
      status: 'failed',
      attempts,
      ...stored,
      lastError,
      sentAt: null,
      now: deps.now().toISOString(),
    });
    return 'not sent' as const;
  };
  const invitation = email.invitationId ? ctx.invitations.get(email.invitationId) : undefined;
  const contact = email.contactId ? ctx.contacts.get(email.contactId) : undefined;
  const website = invitation && ctx.websites.get(invitation.websiteId);
  if (!invitation || !contact || !website || email.to === null) return fail('INVITATION_OR_CONTACT_MISSING');
  const status = deriveStatus(invitation, deps.now());
  if (status !== 'new' && status !== 'sent')
    return fail(`INVITATION_NOT_SENDABLE: the invitation is ${status}`);

  const inviter = invitation.inviterContactId
    ? (ctx.contacts.get(invitation.inviterContactId) ?? null)
    : null;
  const envelope = { messageId: email.messageId, from: email.from, to: email.to };
  const request = invitationComposeRequest(
    deps.keys,
    { key: ctx.template.key, source: ctx.template.template },
    envelope,
    {
      invitation,
      website,
      contact,
      inviter,
      owner: ctx.owners.get(invitation.ownerId) ?? null,
    },
  );
  return deps.post.send(request, async (posted) => {
    if (!posted.error) {
      // Recorded with group commit: the accepted messages that arrive in the same turn of the event
      // loop, or while a write is in flight, go together in one statement (sent.recorder.ts).
      await recordSent(deps.db, {
        id: email.id,
        attempts,
        ...posted.stored,
        sentAt: deps.now().toISOString(),
      });
      return 'sent';
    }
    const e = posted.error;
    if (e.failure === 'connection' || e.failure === 'auth') return e;
    if (e.failure === 'permanent' || attempts >= MAX_EMAIL_ATTEMPTS) return fail(e.message, posted.stored);
    const at = deps.now();
    await deps.db.transaction().execute(async (trx) => {
      await recordAttempt(trx, email.id, {
        status: 'pending',
        attempts,
        ...posted.stored,
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
    return 'not sent' as const;
  });
}
