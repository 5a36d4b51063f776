import { type Static, type TObject, Type } from '@sinclair/typebox';

/**
 * The events integrators receive (SPEC 7), each with its documented payload (`data`). A payload
 * names records by id and carries what an integrator decides on; the record itself is one GET
 * away. Payloads never hold a secret (code, password, key). This catalogue feeds the OpenAPI
 * document's `webhooks`, the endpoints' `eventTypes` check and the event-triggered workflows.
 */
const Id = Type.String({ format: 'uuid' });
const Opt = <T extends Parameters<typeof Type.Optional>[0]>(t: T) => Type.Optional(t);
const NullableId = Type.Union([Id, Type.Null()]);

export const EVENT_TYPES = {
  'invitation.created': {
    summary: 'An invitation was created (once per invitation, bulk ones included)',
    data: Type.Object({
      invitationId: Id,
      websiteId: Id,
      type: Type.Union([Type.Literal('single'), Type.Literal('group')]),
      invitedContactIds: Type.Array(Id),
      ownerId: Id,
      expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
  },
  'invitation.sent': {
    summary: "An invitation email was accepted by the mail server for one of the invitation's contacts",
    data: Type.Object({ invitationId: Id, contactId: NullableId, emailId: Id, to: Type.String() }),
  },
  'invitation.redeemed': {
    summary: 'A contact redeemed an invitation on the portal',
    data: Type.Object({
      invitationId: Id,
      websiteId: Id,
      contactId: Id,
      method: Type.Union([Type.Literal('register'), Type.Literal('signin'), Type.Literal('external')], {
        description:
          'register: new credentials; signin: a signed-in contact; external: through an identity provider',
      }),
      identityProviderId: Type.Union([Id, Type.Null()], {
        description: 'The identity provider of an external redemption (null otherwise)',
      }),
      webRoleIds: Type.Array(Id),
      assignedAccountId: NullableId,
      redemptionCount: Type.Integer(),
    }),
  },
  'invitation.deactivated': {
    summary: 'An invitation was deactivated: its code stops working',
    data: Type.Object({ invitationId: Id }),
  },
  'invitation.activated': {
    summary: 'A deactivated invitation was activated again',
    data: Type.Object({ invitationId: Id }),
  },
  'invitation.code_regenerated': {
    summary: 'An invitation got a new code; the old one stopped working',
    data: Type.Object({ invitationId: Id, codeVersion: Type.Integer() }),
  },
  'invitation.deleted': {
    summary: 'An invitation that was never redeemed was deleted',
    data: Type.Object({ invitationId: Id }),
  },
  'email.failed': {
    summary: 'An email could not be delivered and will not be retried by itself',
    data: Type.Object({
      emailId: Id,
      kind: Type.String(),
      invitationId: NullableId,
      contactId: NullableId,
      reason: Type.String(),
    }),
  },
  'contact.registered': {
    summary: 'A contact registered on a portal (with or without an invitation)',
    data: Type.Object({
      contactId: Id,
      websiteId: Id,
      invitationId: NullableId,
      method: Type.Union([Type.Literal('local'), Type.Literal('external')], {
        description: 'local: a username or email with a password; external: an identity provider',
      }),
      identityProviderId: Type.Union([Id, Type.Null()]),
    }),
  },
  'workflow_run.succeeded': {
    summary: 'A workflow run finished every step',
    data: Type.Object({ runId: Id, workflowId: Id, workflowVersion: Type.Integer(), contactId: Id }),
  },
  'workflow_run.failed': {
    summary: 'A workflow run stopped at a step that failed after its retries',
    data: Type.Object({
      runId: Id,
      workflowId: Id,
      workflowVersion: Type.Integer(),
      contactId: Id,
      stepIndex: Type.Integer(),
      stepType: Type.String(),
      reason: Type.String(),
    }),
  },
  'webhook_endpoint.test': {
    summary: 'Sent by "Send a test event"; only to the endpoint it was asked for',
    data: Type.Object({ endpointId: Id, message: Opt(Type.String()) }),
  },
} as const satisfies Record<string, { summary: string; data: TObject }>;

export type EventType = keyof typeof EVENT_TYPES;
export type EventData<T extends EventType> = Static<(typeof EVENT_TYPES)[T]['data']>;

/** An event to publish: its type and its payload. */
export type NewEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];

/** Events an endpoint may subscribe to (the test event goes only where it is asked for). */
export const SUBSCRIBABLE_EVENT_TYPES = EVENT_TYPE_NAMES.filter((t) => t !== 'webhook_endpoint.test');

/**
 * Events that may start a workflow on their contact: those that name one, and none that a workflow's
 * own steps can cause (a failed email or a failed run starting a workflow again might never end).
 */
export const WORKFLOW_TRIGGER_EVENT_TYPES = [
  'invitation.redeemed',
  'invitation.sent',
  'contact.registered',
] as const satisfies readonly EventType[];

/** The contact an event is about, for event-triggered workflows. */
export function contactOfEvent(type: string, data: Record<string, unknown>): string | null {
  if (!(WORKFLOW_TRIGGER_EVENT_TYPES as readonly string[]).includes(type)) return null;
  return typeof data.contactId === 'string' ? data.contactId : null;
}
