import { Type } from '@sinclair/typebox';
import { IMPORT_OPERATION, importOperation } from '../modules/contacts/contact.import.ts';
import { emailDelivery } from '../modules/emails/email.delivery.ts';
import { DELIVER_JOB, type MessageSource } from '../modules/emails/email.ts';
import { invitationMessages } from '../modules/invitations/invitation.messages.ts';
import { BULK_OPERATION, bulkInviteOperation } from '../modules/invitations/invitation.operation.ts';
import { OPERATION_JOB, operationRunner } from '../modules/operations/operation.service.ts';
import { PORTAL_EMAIL_KINDS, portalMessages } from '../modules/portal/portal.mail.ts';
import { checkedPayload, type HandlerRegistry } from './worker.ts';

/**
 * Every job type this release handles, each with the payload it accepts, and what each kind of
 * work is made of: the message source of every kind of email, the kinds of bulk operation. A job of
 * any other type is dead-lettered by the worker once it has waited (WorkerOptions.unhandledAfterMs);
 * a payload that does not match goes to the dead letter at once.
 */
export function jobHandlers(
  options: { emailRetryBaseMs?: number; emailRetryCapMs?: number } = {},
): HandlerRegistry {
  const sources = new Map<string, MessageSource>([['invitation', invitationMessages]]);
  for (const kind of PORTAL_EMAIL_KINDS) sources.set(kind, portalMessages);
  return new Map([
    [
      DELIVER_JOB,
      checkedPayload(
        Type.Object({ emailIds: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) }),
        emailDelivery({
          sources,
          retryBaseMs: options.emailRetryBaseMs ?? 30_000,
          retryCapMs: options.emailRetryCapMs ?? 3_600_000,
        }),
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
