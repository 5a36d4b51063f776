import type { Contact } from '../contacts/contact.ts';
import type { Website } from '../websites/website.ts';

/**
 * Where a contact goes after signing in or registering without an invitation (SPEC 5): the profile
 * when profileRedirectEnabled and the profile is incomplete; the (already sanitised, same-origin)
 * returnurl; the portal home.
 */
export function afterSignIn(
  website: Website,
  base: string,
  contact: Contact,
  returnUrl: string | null,
): string {
  if (website.settings.profileRedirectEnabled && isProfileIncomplete(contact)) return `${base}/profile`;
  if (returnUrl && returnUrl !== '/') return `${base}${returnUrl}`;
  return `${base}/`;
}

/** Where a contact goes after redeeming an invitation: the website's Redirect Page first, else as after a sign-in. */
export const afterRedemption = (
  website: Website,
  base: string,
  contact: Contact,
  returnUrl: string | null,
): string =>
  website.redirectPath ? `${base}${website.redirectPath}` : afterSignIn(website, base, contact, returnUrl);

export const isProfileIncomplete = (c: Contact): boolean =>
  c.firstName.trim() === '' || c.lastName.trim() === '' || !c.email;
