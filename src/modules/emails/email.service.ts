import type { Actor, Deps } from '../../context.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, notFound } from '../../errors.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { recordAudit } from '../events/event.ts';
import type { Email, EmailStatus } from './email.repository.ts';
import * as repo from './email.repository.ts';
import { DELIVER_JOB, deliveryJobs } from './email.ts';

/**
 * Email activities: written by sending (in the sender's transaction), advanced by delivery, listed
 * and retried by administrators. Lists never carry bodies (they hold links); the stored bodies have
 * the invitation code masked.
 */
export type EmailSummary = Omit<Email, 'html' | 'text' | 'sourceId' | 'jobId'>;
const summary = ({ html: _h, text: _t, sourceId: _s, jobId: _j, ...rest }: Email): EmailSummary => rest;

export async function listEmails(
  deps: Deps,
  q: { invitationId?: string; contactId?: string; status?: EmailStatus; limit: number; cursor?: string },
): Promise<Page<EmailSummary>> {
  const rows = await repo.findEmails(deps.db, { ...q, before: decodeCursor(q.cursor), limit: q.limit + 1 });
  const page = toPage(rows, q.limit);
  return { items: page.items.map(summary), nextCursor: page.nextCursor };
}

/** One Email with its stored copy (subject, HTML, text), the invitation code masked in it. */
export async function getEmail(deps: Deps, id: string): Promise<Omit<Email, 'sourceId' | 'jobId'>> {
  const e = await repo.findEmail(deps.db, id);
  if (!e) throw notFound('email', id);
  const { sourceId: _s, jobId: _j, ...shown } = e;
  return shown;
}

/** Sends a failed email again, whatever its kind (same Message-ID, same code or link). */
export async function retryEmail(deps: Deps, actor: Actor, id: string): Promise<EmailSummary> {
  const email = await deps.db.transaction().execute(async (trx) => {
    const current = await repo.findEmail(trx, id);
    if (!current) throw notFound('email', id);
    // One still to send is retryable only once no job will send it (its job died or is gone).
    const waiting = current.status === 'pending' || current.status === 'sending';
    const orphaned =
      waiting &&
      !(current.jobId === null
        ? await repo.isListedByLiveJob(trx, DELIVER_JOB, id)
        : await repo.isJobLive(trx, current.jobId));
    if (current.status !== 'failed' && !orphaned)
      throw new AppError(
        'EMAIL_NOT_RETRYABLE',
        `The email is ${current.status}; only a failed email, or one whose delivery job has stopped, can be retried.`,
      );
    if (current.to === null)
      throw new AppError(
        'EMAIL_NOT_RETRYABLE',
        'The contact had no primary email; give the contact one and send the invitation again.',
      );
    const now = deps.now();
    // Only from the state read: a retry at the same moment (a double click) finds it changed.
    if (!(await repo.reopenForRetry(trx, current, now.toISOString())))
      throw new AppError('EMAIL_NOT_RETRYABLE', 'The email changed meanwhile; look at it again.');
    const [job] = await enqueue(trx, now, deliveryJobs([id]));
    await repo.handToJob(trx, id, job as string);
    await recordAudit(
      trx,
      deps,
      actor,
      'email.retried',
      { type: 'email', id },
      { previousError: current.lastError },
    );
    return { ...current, status: 'pending' as const };
  });
  deps.notifyJobs();
  return summary(email);
}
