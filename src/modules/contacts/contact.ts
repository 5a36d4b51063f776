/**
 * The contacts module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */
export { accountExists, getAccount } from './account.service.ts';
export {
  authenticate,
  confirmEmail,
  grantOpenRegistrationAccess,
  isContactPassword,
  recordSignIn,
  registerContact,
  setPassword,
  updateProfile,
} from './contact.credentials.ts';
export { importLinesIn, MAX_CSV_LINES, mapHeader, reasonsOf } from './contact.import.ts';
export type { Contact } from './contact.repository.ts';
export {
  findContact,
  findContactsByEmail,
  findContactsByIds,
  findRegistrationContacts,
  saveContactWrite,
  searchMatches,
  toContact,
} from './contact.repository.ts';
export {
  contactIdsMatching,
  countContacts,
  findContactIdsByEmails,
  getContact,
  grantWrites,
  requireAccount,
  requireContact,
  requireContacts,
} from './contact.service.ts';
export {
  applyContactChange,
  type ContactChange,
  ContactGone,
  type WorkflowContactFields,
} from './contact.workflow.ts';
export {
  type ExternalLogin,
  findExternalLoginsOfContacts,
  findLinkedContact,
  linkExternalLoginWrite,
  touchExternalLogin,
} from './external-login.repository.ts';
export { linkExternalLogin, unlinkExternalLogin } from './external-login.service.ts';
export { grantWebsiteAccessWrite, hasWebsiteAccess } from './website-access.service.ts';
