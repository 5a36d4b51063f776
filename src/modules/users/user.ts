/**
 * The users module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */
export { findEnabledAdmins, findUser, findUsersByIds } from './user.repository.ts';
export type { User } from './user.service.ts';
export { authenticateApiKey, requireEnabledUser } from './user.service.ts';
