import type { ContactRow } from '../contacts/contact.repository.ts';
import type { Website } from '../websites/website.service.ts';

/**
 * Where a contact goes after signing in, registering or redeeming (SPEC 5, in this order): the
 * website's redirectPath; the profile when profileRedirectEnabled and the profile is incomplete;
 * the (already sanitised, same-origin) returnurl; the portal home.
 */
export function afterSignIn(
  website: Website,
  base: string,
  contact: ContactRow,
  returnUrl: string | null,
): string {
  if (website.redirectPath) return `${base}${website.redirectPath}`;
  if (website.settings.profileRedirectEnabled && isProfileIncomplete(contact)) return `${base}/profile`;
  if (returnUrl && returnUrl !== '/') return `${base}${returnUrl}`;
  return `${base}/`;
}

export const isProfileIncomplete = (c: ContactRow): boolean =>
  c.firstName.trim() === '' || c.lastName.trim() === '' || !c.email;
