/**
 * The users module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */

export {
  describeUserToken,
  inviteUser,
  linkForOperator,
  requestPasswordReset,
  setPasswordWithToken,
} from './user.credentials.ts';
export { USER_EMAIL_KINDS, userMessages } from './user.mail.ts';
export { findEnabledAdmins, findUser, findUsersByIds } from './user.repository.ts';
export type { User } from './user.service.ts';
export { authenticateApiKey, requireEnabledUser } from './user.service.ts';
