import type { Actor, Deps } from '../../context.ts';
import { runWrites, WriteExpectationFailed } from '../../db/write-batch.ts';
import { notFound } from '../../errors.ts';
import { isId, newId } from '../../ids.ts';
import { recordAudit } from '../events/event.ts';
import * as repo from './external-login.repository.ts';

/**
 * A signed-in contact links a provider's subject to itself (the contact confirms while signed in:
 * SPEC 5). False when the subject is linked already, to anyone (nothing changes then).
 */
export async function linkExternalLogin(
  deps: Deps,
  actor: Actor,
  contactId: string,
  login: { providerId: string; subject: string; email: string | null },
): Promise<boolean> {
  const at = deps.now().toISOString();
  const id = newId();
  try {
    await deps.db.transaction().execute(async (trx) => {
      await runWrites(trx, [
        { query: repo.linkExternalLoginWrite(trx, { id, contactId, ...login, at }), expect: 1 },
      ]);
      await recordAudit(
        trx,
        deps,
        actor,
        'contact.external_login_linked',
        { type: 'contact', id: contactId },
        { identityProviderId: login.providerId, externalLoginId: id },
      );
    });
    return true;
  } catch (err) {
    if (err instanceof WriteExpectationFailed) return false;
    throw err;
  }
}

export type Unlinking = 'unlinked' | 'not-found' | 'last-way-in';

/**
 * Removes one of the contact's external logins on `website`, unless it is the contact's last way to
 * sign in there: no other login with this website's providers, and no password the website takes
 * (local sign-in off). Two tabs removing the last two at once leave one (the contact's row lock).
 */
export async function unlinkExternalLogin(
  deps: Deps,
  actor: Actor,
  contactId: string,
  loginId: string,
  website: { id: string; localLoginEnabled: boolean },
): Promise<Unlinking> {
  if (!isId(loginId)) return 'not-found';
  return deps.db.transaction().execute(async (trx) => {
    const ways = await repo.lockSignInMethods(trx, contactId);
    const here = ((await repo.findExternalLoginsOfContacts(trx, [contactId])).get(contactId) ?? []).filter(
      (l) => l.websiteId === website.id,
    );
    const login = here.find((l) => l.id === loginId);
    if (!login) return 'not-found';
    if (here.length <= 1 && !(ways.hasPassword && website.localLoginEnabled)) return 'last-way-in';
    await repo.deleteExternalLogin(trx, contactId, loginId);
    await recordAudit(
      trx,
      deps,
      actor,
      'contact.external_login_unlinked',
      { type: 'contact', id: contactId },
      { identityProviderId: login.providerId, externalLoginId: loginId },
    );
    return 'unlinked';
  });
}

/** An administrator removes one of a contact's logins, whatever is left; 404 when there is no such login. */
export async function removeExternalLogin(
  deps: Deps,
  actor: Actor,
  contactId: string,
  loginId: string,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const providerId = await repo.deleteExternalLogin(trx, contactId, loginId);
    if (!providerId) throw notFound('external login', loginId);
    await recordAudit(
      trx,
      deps,
      actor,
      'contact.external_login_unlinked',
      { type: 'contact', id: contactId },
      { identityProviderId: providerId, externalLoginId: loginId },
    );
  });
}
