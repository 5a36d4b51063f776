/**
 * The websites module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */
export { findWebPageByPath } from './web-page.service.ts';
export { findWebRolesByIds } from './website.repository.ts';
export type { Website } from './website.service.ts';
export {
  findWebsiteBySlug,
  getWebsite,
  getWebsiteSettings,
  listWebsites,
  requireWebRolesOfWebsite,
  websiteExists,
} from './website.service.ts';
export type { WebsiteSettings } from './website.settings.ts';
