import type { Actor, Deps } from '../../context.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, notFound } from '../../errors.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { recordAudit } from '../events/event.ts';
import type { Email, EmailStatus } from './email.repository.ts';
import * as repo from './email.repository.ts';
import { deliveryJobs } from './email.ts';

/**
 * Email activities: written by sending (in the sender's transaction), advanced by delivery, listed
 * and retried by administrators. Lists never carry bodies (they hold links); the stored bodies have
 * the invitation code masked.
 */
export type EmailSummary = Omit<Email, 'html' | 'text' | 'sourceId'>;
const summary = ({ html: _h, text: _t, sourceId: _s, ...rest }: Email): EmailSummary => rest;

export async function listEmails(
  deps: Deps,
  q: { invitationId?: string; contactId?: string; status?: EmailStatus; limit: number; cursor?: string },
): Promise<Page<EmailSummary>> {
  const rows = await repo.findEmails(deps.db, { ...q, before: decodeCursor(q.cursor), limit: q.limit + 1 });
  const page = toPage(rows, q.limit);
  return { items: page.items.map(summary), nextCursor: page.nextCursor };
}

/** One Email with its stored copy (subject, HTML, text), the invitation code masked in it. */
export async function getEmail(deps: Deps, id: string): Promise<Email> {
  const e = await repo.findEmail(deps.db, id);
  if (!e) throw notFound('email', id);
  return e;
}

/** Sends a failed email again, whatever its kind (same Message-ID, same code or link). */
export async function retryEmail(deps: Deps, actor: Actor, id: string): Promise<EmailSummary> {
  const email = await deps.db.transaction().execute(async (trx) => {
    const current = await repo.findEmail(trx, id);
    if (!current) throw notFound('email', id);
    if (current.status !== 'failed')
      throw new AppError(
        'EMAIL_NOT_RETRYABLE',
        `The email is ${current.status}; only a failed email can be retried.`,
      );
    if (current.to === null)
      throw new AppError(
        'EMAIL_NOT_RETRYABLE',
        'The contact had no primary email; give the contact one and send the invitation again.',
      );
    const now = deps.now();
    await repo.setStatus(trx, [id], 'pending', now.toISOString());
    await enqueue(trx, now, deliveryJobs([id]));
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
