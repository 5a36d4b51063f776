/**
 * The operations module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */
export { accepted, prefersAsync } from './operation.routes.ts';
export { Operation } from './operation.schemas.ts';
export type { ChunkOutcome, OperationFailure, OperationKind, OperationView } from './operation.service.ts';
export { chunked, startOperation } from './operation.service.ts';
