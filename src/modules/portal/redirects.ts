import type { Contact } from '../contacts/contact.ts';
import type { Grant } from '../invitations/invitation.ts';
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

/**
 * Where a contact goes after registering (issue 22, as seed 003 shows): a registration that
 * redeemed an invitation goes to the website's Redirect Page first; then the profile, when
 * profileRedirectEnabled, whether or not it is complete (the new member sees what they are);
 * else as after a sign-in.
 */
export function afterRegistration(
  website: Website,
  base: string,
  contact: Contact,
  returnUrl: string | null,
  redeemed: boolean,
): string {
  if (redeemed && website.redirectPath) return `${base}${website.redirectPath}`;
  if (website.settings.profileRedirectEnabled) return `${base}/profile`;
  return afterSignIn(website, base, contact, returnUrl);
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

const listed = (names: string[]) =>
  names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;

/**
 * The line that ends every redemption, saying what it granted: "You now have Partner access at
 * Contoso Ltd." (web roles and account), or the part of it there is.
 */
export function grantedLine(websiteName: string, grant: Grant): string {
  const roles = listed(grant.roleNames);
  if (roles && grant.accountName) return `You now have ${roles} access at ${grant.accountName}.`;
  if (roles) return `You now have ${roles} access on ${websiteName}.`;
  if (grant.accountName) return `You now belong to ${grant.accountName} on ${websiteName}.`;
  return `Your invitation to ${websiteName} is accepted.`;
}
