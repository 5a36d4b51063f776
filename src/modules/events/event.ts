/**
 * The events module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */
export { auditWrites, recordAggregateAudit, recordAudit, recordAuditMany } from './audit.service.ts';
export { webhookDocuments } from './event.openapi.ts';
export type { WindowSource } from './event.publish.ts';
export type { StoredEvent } from './event.repository.ts';
export {
  type EventWindow,
  eventPublishWrites,
  keyedEventId,
  pruneEvents,
  publishEvents,
  windowPublicationWrites,
} from './event.service.ts';
export type { EventType, NewEvent } from './event.types.ts';
export { contactOfEvent, WORKFLOW_TRIGGER_EVENT_TYPES } from './event.types.ts';
export { signatureHeader, urlProblem } from './webhook.http.ts';
export { secretOf, signingKey } from './webhook.service.ts';
