/**
 * The invitations module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */

export type { HeldRegistration } from './held-registration.ts';
export {
  findHeldRegistration,
  findHeldRegistrationAddress,
  heldRegistrationToken,
  holdRegistration,
} from './held-registration.ts';
export { type Grant, latestGrant } from './invitation.granted.ts';
export type { CodeRef, PendingInvitation } from './invitation.lookup.ts';
export { describePending, findRedeemableCode, invitationTag, refOfCode } from './invitation.lookup.ts';
export { previewInvitationEmail } from './invitation.preview.ts';
export { recordRefusal } from './invitation.refusals.ts';
export {
  ConfirmationRequired,
  ExistingContactProven,
  ExternalEmailMismatch,
  type ExternalIdentity,
  maskEmail,
  redeemInvitation,
} from './redemption.service.ts';
