import type { Deps } from '../context.ts';
import { isId } from '../ids.ts';
import { findAccounts } from '../modules/contacts/account.repository.ts';
import { findContactIdsByEmails } from '../modules/contacts/contact.ts';
import { findWebRolesOfWebsite } from '../modules/websites/website.repository.ts';
import { findWebsiteBySlug } from '../modules/websites/website.service.ts';
import { listWorkflows } from '../modules/workflows/workflow.service.ts';

/** An option's value names nothing, or several things: the message says what to give instead. */
export class NotResolved extends Error {}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The CLI's options take what the console shows: a website's slug, a web role's or an account's or
 * a workflow's name (or any record's id). Each resolves to an id, or throws NotResolved.
 */
export async function websiteIdOf(deps: Deps, value: string): Promise<string> {
  if (isId(value)) return value;
  const website = await findWebsiteBySlug(deps, value.trim().toLowerCase());
  if (!website) throw new NotResolved(`No website has the slug or id "${value}".`);
  return website.id;
}

export async function webRoleIdsOf(deps: Deps, websiteId: string, values: string[]): Promise<string[]> {
  const roles = await findWebRolesOfWebsite(deps.db, { websiteId, limit: 1000 });
  return values.map((v) => {
    if (isId(v)) return v;
    const role = roles.find((r) => same(r.name, v));
    if (!role)
      throw new NotResolved(
        `The website has no web role "${v}"; its roles: ${roles.map((r) => r.name).join(', ') || 'none'}.`,
      );
    return role.id;
  });
}

export async function accountIdOf(deps: Deps, value: string): Promise<string> {
  if (isId(value)) return value;
  const named = (await findAccounts(deps.db, { search: value.trim(), limit: 50 })).filter((a) =>
    same(a.name, value),
  );
  if (named.length === 0) throw new NotResolved(`No account is named "${value}".`);
  if (named.length > 1)
    throw new NotResolved(
      `${named.length} accounts are named "${value}"; give one's id: ${named.map((a) => a.id).join(', ')}.`,
    );
  return (named[0] as { id: string }).id;
}

export async function workflowIdOf(deps: Deps, value: string): Promise<string> {
  if (isId(value)) return value;
  const named = (await listWorkflows(deps, { limit: 500 })).items.filter((w) => same(w.name, value));
  if (named.length !== 1)
    throw new NotResolved(
      named.length === 0
        ? `No workflow is named "${value}".`
        : `${named.length} workflows are named "${value}"; give one's id.`,
    );
  return (named[0] as { id: string }).id;
}

/** Contacts by primary email (or id); every email must belong to a contact. */
export async function contactIdsOf(deps: Deps, values: string[]): Promise<string[]> {
  const emails = values.filter((v) => !isId(v)).map((e) => e.trim().toLowerCase());
  const byEmail = await findContactIdsByEmails(deps.db, emails);
  const unknown = emails.filter((e) => !byEmail.has(e));
  if (unknown.length > 0)
    throw new NotResolved(
      `No contact has the email ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}.`,
    );
  return values.map((v) => (isId(v) ? v : (byEmail.get(v.trim().toLowerCase()) as string)));
}
