import { Type } from '@sinclair/typebox';
import { IMPORT_OPERATION, importOperation } from '../modules/contacts/contact.import.ts';
import { emailDelivery } from '../modules/emails/email.delivery.ts';
import { DELIVER_JOB, type MessageSource } from '../modules/emails/email.ts';
import { sentEventWindows } from '../modules/emails/sent.events.ts';
import { eventPublisher } from '../modules/events/event.publish.ts';
import { PUBLISH_JOB } from '../modules/events/event.service.ts';
import { webhookDelivery } from '../modules/events/webhook.delivery.ts';
import {
  ENDPOINT_DISABLED_KIND,
  endpointDisabledMessages,
  mailEndpointDisabled,
} from '../modules/events/webhook.mail.ts';
import { DELIVER_WEBHOOKS_JOB } from '../modules/events/webhook.service.ts';
import { invitationMessages } from '../modules/invitations/invitation.messages.ts';
import { BULK_OPERATION, bulkInviteOperation } from '../modules/invitations/invitation.operation.ts';
import { OPERATION_JOB, operationRunner } from '../modules/operations/operation.service.ts';
import { PORTAL_EMAIL_KINDS, portalMessages } from '../modules/portal/portal.mail.ts';
import { USER_EMAIL_KINDS, userMessages } from '../modules/users/user.ts';
import { RUN_JOB, workflowRunner } from '../modules/workflows/run.runner.ts';
import { eventRuns } from '../modules/workflows/run.service.ts';
import { WORKFLOW_EMAIL_KIND } from '../modules/workflows/steps/send-email.ts';
import { workflowMessages } from '../modules/workflows/workflow.messages.ts';
import { checkedPayload, type HandlerRegistry } from './worker.ts';

/**
 * Every job type this release handles, each with the payload it accepts, and what each kind of
 * work is made of: the message source of every kind of email, the kinds of bulk operation. A job of
 * any other type is dead-lettered by the worker once it has waited (WorkerOptions.unhandledAfterMs);
 * a payload that does not match goes to the dead letter at once.
 */
export function jobHandlers(
  options: {
    emailRetryBaseMs?: number;
    emailRetryCapMs?: number;
    webhookRetryDelaysMs?: number[];
    workflowRetryDelaysMs?: number[];
  } = {},
): HandlerRegistry {
  const sources = new Map<string, MessageSource>([
    ['invitation', invitationMessages],
    [WORKFLOW_EMAIL_KIND, workflowMessages],
    [ENDPOINT_DISABLED_KIND, endpointDisabledMessages],
  ]);
  for (const kind of PORTAL_EMAIL_KINDS) sources.set(kind, portalMessages);
  for (const kind of Object.values(USER_EMAIL_KINDS)) sources.set(kind, userMessages);
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
      PUBLISH_JOB,
      checkedPayload(
        Type.Union([
          Type.Object({
            eventIds: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
            types: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          }),
          Type.Object({
            window: Type.Object({
              type: Type.String(),
              from: Type.String(),
              to: Type.String(),
              pass: Type.Optional(Type.Integer({ minimum: 1 })),
            }),
          }),
        ]),
        eventPublisher([eventRuns], sentEventWindows(sources)),
      ),
    ],
    [
      DELIVER_WEBHOOKS_JOB,
      checkedPayload(
        Type.Object({ deliveryIds: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) }),
        webhookDelivery({
          retryDelaysMs: options.webhookRetryDelaysMs,
          onEndpointDisabled: mailEndpointDisabled,
        }),
      ),
    ],
    [
      RUN_JOB,
      checkedPayload(
        Type.Object({ runId: Type.String({ minLength: 1 }) }),
        workflowRunner({ retryDelaysMs: options.workflowRetryDelaysMs }),
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
