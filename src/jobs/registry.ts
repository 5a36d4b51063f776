import { deliverInvitationEmails } from '../modules/invitations/invitation.delivery.ts';
import { DELIVER_JOB } from '../modules/invitations/send.service.ts';
import { CONTACT_EMAIL_JOB, deliverContactEmail } from '../modules/portal/portal.mail.ts';
import type { HandlerRegistry } from './worker.ts';

/**
 * Every job type and its handler. A job whose type has no handler here stays queued: jobs for
 * capabilities still to come (workflow runs, webhook events) wait for the release that handles them.
 */
export function jobHandlers(
  options: { emailRetryBaseMs?: number; emailRetryCapMs?: number } = {},
): HandlerRegistry {
  return new Map([
    [
      DELIVER_JOB,
      deliverInvitationEmails({
        retryBaseMs: options.emailRetryBaseMs ?? 30_000,
        retryCapMs: options.emailRetryCapMs ?? 3_600_000,
      }),
    ],
    [CONTACT_EMAIL_JOB, deliverContactEmail],
  ]);
}
