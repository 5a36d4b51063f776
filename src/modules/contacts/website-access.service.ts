import type { Actor, Deps } from '../../context.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
import { signOutEverywhere } from '../../http/session.ts';
import { recordAudit } from '../events/event.ts';
import { getWebsite } from '../websites/website.ts';
import * as repo from './contact.repository.ts';
import * as access from './website-access.repository.ts';

export type { AccessSource, WebsiteAccess } from './website-access.repository.ts';

/**
 * Portal access per website (SPEC 5): a contact's credentials work on a website only where it has
 * access, given by redeeming one of the website's invitations, by open registration there, or by an
 * administrator (these functions, audited). Removing access also ends the contact's sessions there.
 */
export async function listWebsiteAccess(deps: Deps, contactId: string): Promise<access.WebsiteAccess[]> {
  if (!(await repo.findContact(deps.db, contactId))) throw notFound('contact', contactId);
  return access.findWebsiteAccessOfContact(deps.db, contactId);
}

export async function grantWebsiteAccess(
  deps: Deps,
  actor: Actor,
  contactId: string,
  websiteId: string,
): Promise<access.WebsiteAccess> {
  await getWebsite(deps, websiteId).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'NOT_FOUND')
      throw invalid('/websiteId', `No website with id ${websiteId}.`);
    throw err;
  });
  return deps.db.transaction().execute(async (trx) => {
    if (!(await repo.findContact(trx, contactId))) throw notFound('contact', contactId);
    const at = deps.now().toISOString();
    const r = await trx.executeQuery(
      access.grantWebsiteAccessWrite(trx, { contactId, websiteId, source: 'admin', at }),
    );
    if (Number(r.numAffectedRows ?? 0n) > 0)
      await recordAudit(
        trx,
        deps,
        actor,
        'contact.website_access_granted',
        { type: 'contact', id: contactId },
        { websiteId },
      );
    const all = await access.findWebsiteAccessOfContact(trx, contactId);
    return all.find((a) => a.websiteId === websiteId) as access.WebsiteAccess;
  });
}

export async function removeWebsiteAccess(
  deps: Deps,
  actor: Actor,
  contactId: string,
  websiteId: string,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    if (!(await access.revokeWebsiteAccess(trx, contactId, websiteId)))
      throw new AppError('NOT_FOUND', `The contact ${contactId} has no access to the website ${websiteId}.`);
    await signOutEverywhere(trx, contactId, websiteId);
    await recordAudit(
      trx,
      deps,
      actor,
      'contact.website_access_removed',
      { type: 'contact', id: contactId },
      { websiteId },
    );
  });
}

/** True when the contact may sign in to the website. */
export const hasWebsiteAccess = access.hasWebsiteAccess;
/** The statement that gives a contact access to a website, for a caller's write batch. */
export const grantWebsiteAccessWrite = access.grantWebsiteAccessWrite;
