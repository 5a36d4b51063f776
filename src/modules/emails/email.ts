import type { Deps } from '../../context.ts';
import { newId } from '../../ids.ts';
import type { JobRequest } from '../../jobs/enqueue.ts';
import type { ComposeRequest } from '../../mail/compose.ts';
import { messageIdFor } from '../../mail/mailer.ts';
import type { EventType, NewEvent } from '../events/event.ts';
import type { Email, EmailStatus, SentEmail } from './email.repository.ts';

export { insertEmails } from './email.repository.ts';
/**
 * The emails module's face: what other modules may use. An Email record is written by the module
 * that owns its kind (in its own transaction, with its delivery jobs) and delivered by this module
 * (email.delivery.ts), which asks that kind's MessageSource to compose it.
 */
export type { Email, EmailStatus, SentEmail };

/** The one job that delivers Email records, of every kind. */
export const DELIVER_JOB = 'email.deliver';
/** Emails per delivery job: small enough to spread over workers, large enough to batch the reads. */
export const EMAILS_PER_JOB = 50;
/** A delivery job retries for hours while the mail server is down (2 s doubling, capped at 10 min). */
export const DELIVER_MAX_ATTEMPTS = 40;

/** The delivery jobs of `emailIds`, EMAILS_PER_JOB each, to enqueue in the caller's transaction. */
export function deliveryJobs(emailIds: readonly string[], runAt?: string): JobRequest[] {
  const jobs: JobRequest[] = [];
  for (let k = 0; k < emailIds.length; k += EMAILS_PER_JOB)
    jobs.push({
      type: DELIVER_JOB,
      payload: { emailIds: emailIds.slice(k, k + EMAILS_PER_JOB) },
      maxAttempts: DELIVER_MAX_ATTEMPTS,
      ...(runAt ? { runAt } : {}),
    });
  return jobs;
}

/**
 * A new Email record, not yet written: `pending`, or `failed` with NO_PRIMARY_EMAIL when there is no
 * address to send to. Its Message-ID is fixed now, so every attempt carries the same one. `id` is
 * an idempotency key when given (the same id cannot be written twice).
 */
export function newEmail(
  deps: Pick<Deps, 'config'>,
  e: Pick<Email, 'kind' | 'sourceId' | 'invitationId' | 'contactId' | 'to' | 'from'>,
  at: string,
  id: string = newId(),
): Email {
  return {
    id,
    ...e,
    jobId: null,
    subject: null,
    html: null,
    text: null,
    status: e.to === null ? 'failed' : 'pending',
    attempts: 0,
    lastError: e.to === null ? 'NO_PRIMARY_EMAIL' : null,
    messageId: messageIdFor(id, deps.config.mailFrom, deps.config.publicUrl),
    sentAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** An email that has an address to go to: the only kind a message source is asked to compose. */
export type AddressedEmail = Email & { to: string };

/** What a message source gives for one email: the message (its envelope is the delivery's), or why not. */
export type Message = Omit<ComposeRequest, 'envelope'>;
export type Refusal = { refused: string };

/**
 * How one kind of email is composed; each kind's module supplies one, wired at the composition
 * root (jobs/registry.ts). The delivery does everything else: the mail gate, the attempts, the
 * outcomes and their records.
 */
export interface MessageSource<Context = unknown> {
  /** Reads what composing needs for a group of emails of this kind (one job's), in a few queries. */
  load(deps: Deps, emails: readonly AddressedEmail[]): Promise<Context>;
  /**
   * The message for one email, or why it cannot be sent (the email fails with that reason, and is
   * not tried again). Pure over the loaded context; throws only for a fault of our own.
   */
  compose(deps: Deps, email: AddressedEmail, context: Context): Message | Refusal;
  /**
   * After a delivery job, however it ended: the emails of this kind the mail server accepted, in
   * this run or an earlier run of the same job (a run after a crash tells them again).
   */
  accepted?(deps: Deps, emails: readonly Email[]): Promise<void>;
  /**
   * The integrator event an accepted email of this kind publishes: its type, and its payload from
   * the email's record (null: none). One per email, derived from the record when the second it was
   * sent in is published (sent.events.ts), so that recording a sent email writes no event.
   */
  sentEvent?: { type: EventType; of(email: SentEmail): NewEvent | null };
}

/** The message source of each kind. */
export type MessageSources = ReadonlyMap<string, MessageSource>;
