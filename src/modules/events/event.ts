/**
 * The events module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */
export { auditWrites, recordAggregateAudit, recordAudit, recordAuditMany } from './audit.service.ts';
