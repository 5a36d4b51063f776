import type { Deps } from '../../context.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { backoffMs, type Job, RetryLater } from '../../jobs/worker.ts';
import type { Outcome } from '../../mail/mail.ts';
import { MailError } from '../../mail/mailer.ts';
import { publishEvents } from '../events/event.ts';
import * as repo from './email.repository.ts';
import {
  type AddressedEmail,
  deliveryJobs,
  type Email,
  type MessageSource,
  type MessageSources,
} from './email.ts';
import {
  endMailTrouble,
  mailGate,
  PAUSED_RECHECK_MS,
  pauseSending,
  reportMailTrouble,
} from './mail-state.service.ts';
import { sentRecorderFor } from './sent.recorder.ts';

/**
 * The `email.deliver` job, for every kind of email: for each email of the job still to send, its
 * kind's message source composes it, `deps.mail` sends it, and the outcome is recorded before the
 * lane takes the next email:
 * - accepted: the Email is `sent`, with the stored copy (secrets masked), by group commit
 *   (sent.recorder.ts). Its slot in the sending window is held until then, so a crash sends again
 *   at most the SMTP pool size of messages;
 * - refused by its source (the invitation expired, the token is gone): `failed` with the reason;
 * - 4xx: this email alone is handed to a retry job that runs after a backoff (no other job sends it
 *   from then on), and fails after MAX_EMAIL_ATTEMPTS;
 * - 5xx: `failed` with the server's reply, never tried again by itself;
 * - connection trouble or 421: the emails not sent go back to `pending`, the server is marked in
 *   trouble (GET /mail/status), and the job waits, without spending an attempt, for the one probe
 *   that finds the server back (mail-state.service.ts); the probe sends one email alone first;
 * - credentials refused: sending pauses (GET /mail/status says why) and the job waits.
 * Before anything, the job asks the mail gate: while sending is paused or the server in trouble, no
 * email of any kind is tried. When the job ends, however it ends, each kind's source is told which of
 * its emails were accepted.
 */
export const MAX_EMAIL_ATTEMPTS = 8;

export interface DeliveryOptions {
  sources: MessageSources;
  /** Backoff of a single email's 4xx retries. */
  retryBaseMs: number;
  retryCapMs: number;
}

export function emailDelivery(options: DeliveryOptions) {
  return async (job: Job, deps: Deps): Promise<void> => {
    const gate = await mailGate(deps.db, deps.now());
    if (gate.kind === 'paused') throw new RetryLater(PAUSED_RECHECK_MS, `sending is paused: ${gate.reason}`);
    if (gate.kind === 'wait') throw new RetryLater(gate.ms + Math.round(Math.random() * 250), gate.reason);
    const ids = job.payload.emailIds as string[];
    const all = await repo.startSending(deps.db, ids, deps.now().toISOString(), job.id);
    // A job run again after a crash may hold emails its first run sent: their sources hear of them.
    const accepted = all.filter((e) => e.status === 'sent');
    try {
      // Only the emails this job claimed: one handed to a retry job is that job's to send.
      const toSend = all.filter((e) => e.status === 'sending' && e.jobId === job.id);
      if (toSend.length > 0) await deliver(deps, options, toSend, accepted, gate.kind === 'probe');
    } finally {
      await tellAccepted(deps, options.sources, accepted);
    }
  };
}

/** One email ready to go: its source and the context loaded for its kind. */
interface Ready {
  email: AddressedEmail;
  source: MessageSource;
  context: unknown;
}

async function deliver(
  deps: Deps,
  options: DeliveryOptions,
  emails: Email[],
  accepted: Email[],
  probe: boolean,
): Promise<void> {
  const queue = await readyToSend(deps, options.sources, emails);
  let stop: MailError | null = null;
  // An error no outcome explains, such as a record the database refused: the lanes take no more
  // emails, and the job fails only once the emails in flight have finished, so that a retry of the
  // job does not run beside lanes still sending.
  let broken: { error: unknown } | null = null;
  const left: Email[] = [];
  const lane = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (stop || broken) {
        left.push(next.email);
        continue;
      }
      try {
        const outcome = await deliverOne(deps, options, next);
        if (outcome instanceof MailError) {
          stop = outcome;
          left.push(next.email);
        } else if (outcome === 'sent') accepted.push(next.email);
      } catch (error) {
        broken ??= { error };
      }
    }
  };
  if (probe) {
    // One email at a time until the server takes one (an email refused by its source proves
    // nothing); then the others, all lanes at once.
    let taken = false;
    while (!taken && !stop && !broken && queue.length > 0) {
      const before = accepted.length;
      const rest = queue.splice(1);
      await lane();
      queue.push(...rest);
      taken = accepted.length > before;
    }
    if (taken) await endMailTrouble(deps);
  }
  await Promise.all(Array.from({ length: Math.min(queue.length, deps.mail.parallelism * 2) }, lane));
  // The emails not taken stay `sending`: the job's next run takes them with the others.
  if (broken) throw (broken as { error: unknown }).error;
  if (stop === null) return;

  const { failure, message, responseCode } = stop as MailError;
  const at = deps.now().toISOString();
  await repo.setStatus(
    deps.db,
    left.map((e) => e.id),
    'pending',
    at,
    message,
  );
  if (failure === 'auth') {
    await pauseSending(deps.db, `The mail server refused the credentials in SMTP_URL: ${message}`, at);
    throw new RetryLater(PAUSED_RECHECK_MS, message);
  }
  const wait = await reportMailTrouble(deps.db, { responseCode, reply: message, probe }, deps.now());
  throw new RetryLater(wait + Math.round(Math.random() * 250), `mail server unreachable: ${message}`);
}

/**
 * The emails in the order given, each with its source and its kind's context (loaded once per kind).
 * An email with no address or of a kind no source composes fails here, with the reason.
 */
async function readyToSend(deps: Deps, sources: MessageSources, emails: Email[]): Promise<Ready[]> {
  const byKind = new Map<string, AddressedEmail[]>();
  for (const email of emails) {
    const reason =
      email.to === null
        ? 'NO_PRIMARY_EMAIL'
        : sources.has(email.kind)
          ? null
          : `NO_MESSAGE_SOURCE: ${email.kind}`;
    if (reason) await recordFailure(deps, email, reason);
    else groupInto(byKind, email.kind, email as AddressedEmail);
  }
  const contexts = new Map<string, unknown>();
  for (const [kind, group] of byKind) contexts.set(kind, await sources.get(kind)?.load(deps, group));
  return emails.flatMap((e) =>
    byKind.has(e.kind) && e.to !== null
      ? [
          {
            email: e as AddressedEmail,
            source: sources.get(e.kind) as MessageSource,
            context: contexts.get(e.kind),
          },
        ]
      : [],
  );
}

/**
 * Composes, sends and records one email. 'sent' or 'not sent' for an outcome recorded; a MailError
 * (connection or credentials) when the whole job must stop.
 */
async function deliverOne(
  deps: Deps,
  options: DeliveryOptions,
  { email, source, context }: Ready,
): Promise<'sent' | 'not sent' | MailError> {
  const message = source.compose(deps, email, context);
  if ('refused' in message) {
    await recordFailure(deps, email, message.refused);
    return 'not sent';
  }
  const envelope = { messageId: email.messageId, from: email.from, to: email.to };
  return deps.mail.sendAndRecord({ ...message, envelope }, (outcome) =>
    record(deps, options, email, outcome, source),
  );
}

/** Records an outcome of `email`'s attempt, as the job's rules say (above). */
async function record(
  deps: Deps,
  options: DeliveryOptions,
  email: AddressedEmail,
  outcome: Outcome,
  source: MessageSource,
): Promise<'sent' | 'not sent' | MailError> {
  const attempts = email.attempts + 1;
  const now = deps.now();
  if (!outcome.error) {
    await sentRecorderFor(deps.db).record({
      id: email.id,
      attempts,
      ...outcome.stored,
      sentAt: now.toISOString(),
      ...(source.sentEvent ? { publishes: source.sentEvent.type } : {}),
    });
    return 'sent';
  }
  const e = outcome.error;
  if (e.failure === 'connection' || e.failure === 'auth') return e;
  const attempt = { attempts, ...outcome.stored, lastError: e.message, sentAt: null, now: now.toISOString() };
  if (e.failure === 'permanent' || attempts >= MAX_EMAIL_ATTEMPTS) {
    await recordFailed(deps, email, attempt);
    return 'not sent';
  }
  const retryAt = new Date(now.getTime() + backoffMs(attempts, options.retryBaseMs, options.retryCapMs));
  await deps.db.transaction().execute(async (trx) => {
    await repo.recordAttempt(trx, email.id, { ...attempt, status: 'pending' });
    const [retry] = await enqueue(trx, now, deliveryJobs([email.id], retryAt.toISOString()));
    await repo.handToJob(trx, email.id, retry as string);
  });
  return 'not sent';
}

/** The email failed before the server was asked: never tried again by itself. */
const recordFailure = (deps: Deps, email: Email, reason: string) =>
  recordFailed(deps, email, {
    attempts: email.attempts + 1,
    subject: null,
    html: null,
    text: null,
    lastError: reason,
    sentAt: null,
    now: deps.now().toISOString(),
  });

/** Records `email` failed for good, and publishes `email.failed`, in one transaction. */
async function recordFailed(
  deps: Deps,
  email: Email,
  attempt: Omit<Parameters<typeof repo.recordAttempt>[2], 'status'> & { lastError: string },
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await repo.recordAttempt(trx, email.id, { ...attempt, status: 'failed' });
    await publishEvents(trx, deps, [
      {
        type: 'email.failed',
        data: {
          emailId: email.id,
          kind: email.kind,
          invitationId: email.invitationId,
          contactId: email.contactId,
          reason: attempt.lastError.slice(0, 500),
        },
      },
    ]);
  });
}

async function tellAccepted(deps: Deps, sources: MessageSources, accepted: readonly Email[]): Promise<void> {
  const byKind = new Map<string, Email[]>();
  for (const e of accepted) groupInto(byKind, e.kind, e);
  for (const [kind, emails] of byKind) await sources.get(kind)?.accepted?.(deps, emails);
}

function groupInto<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const group = groups.get(key);
  if (group) group.push(item);
  else groups.set(key, [item]);
}
