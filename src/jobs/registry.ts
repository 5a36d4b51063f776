import { Type } from '@sinclair/typebox';
import { IMPORT_OPERATION, importOperation } from '../modules/contacts/contact.import.ts';
import { deliverInvitationEmails } from '../modules/invitations/invitation.delivery.ts';
import { BULK_OPERATION, bulkInviteOperation } from '../modules/invitations/invitation.operation.ts';
import { DELIVER_JOB } from '../modules/invitations/send.service.ts';
import { OPERATION_JOB, operationRunner } from '../modules/operations/operation.service.ts';
import { CONTACT_EMAIL_JOB, deliverContactEmail } from '../modules/portal/portal.mail.ts';
import { checkedPayload, type HandlerRegistry } from './worker.ts';

/**
 * Every job type this release handles, each with the payload it accepts. A job of any other type
 * is dead-lettered by the worker once it has waited (WorkerOptions.unhandledAfterMs); a payload
 * that does not match goes to the dead letter at once.
 */
export function jobHandlers(
  options: { emailRetryBaseMs?: number; emailRetryCapMs?: number } = {},
): HandlerRegistry {
  return new Map([
    [
      DELIVER_JOB,
      checkedPayload(
        Type.Object({ emailIds: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) }),
        deliverInvitationEmails({
          retryBaseMs: options.emailRetryBaseMs ?? 30_000,
          retryCapMs: options.emailRetryCapMs ?? 3_600_000,
        }),
      ),
    ],
    [
      CONTACT_EMAIL_JOB,
      checkedPayload(
        Type.Object({
          emailId: Type.String({ minLength: 1 }),
          tokenId: Type.String({ minLength: 1 }),
          purpose: Type.String({ minLength: 1 }),
        }),
        deliverContactEmail,
      ),
    ],
    [
      OPERATION_JOB,
      operationRunner(
        new Map([
          [IMPORT_OPERATION, importOperation],
          [BULK_OPERATION, bulkInviteOperation],
        ]),
      ),
    ],
  ]);
}
