import { setImmediate as turn } from 'node:timers/promises';
import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { inUseOr, uniqueOr } from '../../db/dialect.ts';
import { decodeCursor, decodeKeyCursor, type Page, toKeyedPage, toPage } from '../../db/paging.ts';
import { AppError, type FieldError, invalid, notFound, throwIfInvalid } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { recordAudit } from '../events/event.ts';
import { findWebRolesByIds } from '../websites/website.ts';
import * as accounts from './account.repository.ts';
import type { Contact } from './contact.repository.ts';
import * as repo from './contact.repository.ts';
import * as externalLogins from './external-login.repository.ts';

export interface ContactWithRoles extends Contact {
  webRoleIds: string[];
  externalLogins: externalLogins.ExternalLogin[];
}

export interface ContactInput {
  firstName: string;
  lastName: string;
  email?: string | null;
  email2?: string | null;
  email3?: string | null;
  parentAccountId?: string | null;
  username?: string | null;
  loginEnabled?: boolean;
  webRoleIds?: string[];
}

/** Adds web roles and external logins to rows; one query each, whatever the number of rows. */
export async function withRelations(conn: Conn, rows: readonly Contact[]): Promise<ContactWithRoles[]> {
  const ids = rows.map((r) => r.id);
  const [roles, logins] = await Promise.all([
    repo.findWebRoleIdsOfContacts(conn, ids),
    externalLogins.findExternalLoginsOfContacts(conn, ids),
  ]);
  return rows.map((r) => ({
    ...r,
    webRoleIds: roles.get(r.id) ?? [],
    externalLogins: logins.get(r.id) ?? [],
  }));
}

async function checkReferences(conn: Conn, input: Partial<ContactInput>): Promise<void> {
  const errors: FieldError[] = [];
  if (input.parentAccountId && !(await accounts.findAccount(conn, input.parentAccountId))) {
    errors.push({ path: '/parentAccountId', message: `No account with id ${input.parentAccountId}.` });
  }
  if (input.webRoleIds && input.webRoleIds.length > 0) {
    const found = new Set((await findWebRolesByIds(conn, input.webRoleIds)).map((r) => r.id));
    input.webRoleIds.forEach((id, i) => {
      if (!found.has(id)) errors.push({ path: `/webRoleIds/${i}`, message: `No web role with id ${id}.` });
    });
  }
  throwIfInvalid(errors);
}

const usernameConflict = <T>(work: () => Promise<T>): Promise<T> =>
  uniqueOr(work, () => new AppError('USERNAME_TAKEN', 'Another contact already has this username.'));

export async function createContact(
  deps: Deps,
  actor: Actor,
  input: ContactInput,
): Promise<ContactWithRoles> {
  const now = deps.now().toISOString();
  const row: Contact = {
    id: newId(),
    firstName: input.firstName,
    lastName: input.lastName,
    email: input.email ?? null,
    email2: input.email2 ?? null,
    email3: input.email3 ?? null,
    parentAccountId: input.parentAccountId ?? null,
    username: input.username ?? null,
    loginEnabled: input.loginEnabled ?? false,
    emailConfirmed: false,
    lastSignInAt: null,
    pendingEmail: null,
    createdAt: now,
    updatedAt: now,
  };
  const roleIds = [...new Set(input.webRoleIds ?? [])];
  await usernameConflict(() =>
    deps.db.transaction().execute(async (trx) => {
      await checkReferences(trx, input);
      await repo.insertContacts(trx, [row]);
      await repo.addContactWebRoles(trx, row.id, roleIds, now);
      await recordAudit(
        trx,
        deps,
        actor,
        'contact.created',
        { type: 'contact', id: row.id },
        { webRoleIds: roleIds },
      );
    }),
  );
  return { ...row, webRoleIds: roleIds.sort(), externalLogins: [] };
}

export async function getContact(deps: Deps, id: string, conn: Conn = deps.db): Promise<ContactWithRoles> {
  const row = await repo.findContact(conn, id);
  if (!row) throw notFound('contact', id);
  const [contact] = await withRelations(conn, [row]);
  return contact as ContactWithRoles;
}

export async function listContacts(
  deps: Deps,
  q: { search?: string; accountId?: string; sort?: repo.ContactSort; limit: number; cursor?: string },
): Promise<Page<ContactWithRoles>> {
  const byName = q.sort === 'name';
  const rows = await repo.findContacts(deps.db, {
    search: q.search,
    accountId: q.accountId,
    sort: q.sort,
    ...(byName ? { afterKey: decodeKeyCursor(q.cursor) } : { after: decodeCursor(q.cursor) }),
    limit: q.limit + 1,
  });
  const page = byName ? toKeyedPage(rows, q.limit, (r) => r.sortKey) : toPage(rows, q.limit);
  const items = page.items.map(({ sortKey: _key, ...contact }) => contact);
  return { items: await withRelations(deps.db, items), nextCursor: page.nextCursor };
}

export async function countContacts(deps: Deps, q: { search?: string; accountId?: string }): Promise<number> {
  return repo.countContacts(deps.db, q);
}

export async function updateContact(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: Partial<ContactInput>,
): Promise<ContactWithRoles> {
  return usernameConflict(() =>
    deps.db.transaction().execute(async (trx) => {
      const current = await repo.findContact(trx, id);
      if (!current) throw notFound('contact', id);
      await checkReferences(trx, patch);
      const pick = <K extends keyof Contact>(k: K & keyof ContactInput) =>
        (patch[k] === undefined ? current[k] : patch[k]) as Contact[K];
      const emailChanged =
        patch.email !== undefined &&
        (patch.email ?? '').toLowerCase() !== (current.email ?? '').toLowerCase();
      const next: Contact = {
        ...current,
        firstName: pick('firstName'),
        lastName: pick('lastName'),
        email: pick('email'),
        email2: pick('email2'),
        email3: pick('email3'),
        parentAccountId: pick('parentAccountId'),
        username: pick('username'),
        loginEnabled: pick('loginEnabled'),
        emailConfirmed: emailChanged ? false : current.emailConfirmed,
        pendingEmail: emailChanged ? null : current.pendingEmail,
        updatedAt: deps.now().toISOString(),
      };
      await repo.updateContact(trx, next);
      if (patch.webRoleIds !== undefined) {
        const roleIds = [...new Set(patch.webRoleIds)];
        await repo.removeContactWebRoles(trx, id, roleIds);
        await repo.addContactWebRoles(trx, id, roleIds, next.updatedAt);
      }
      await recordAudit(
        trx,
        deps,
        actor,
        'contact.updated',
        { type: 'contact', id },
        { fields: Object.keys(patch) },
      );
      return getContact(deps, id, trx);
    }),
  );
}

/**
 * Deletes a contact no invitation or email refers to (409 IN_USE otherwise, from the foreign keys:
 * the history must stay whole).
 */
export async function deleteContact(deps: Deps, actor: Actor, id: string): Promise<void> {
  await inUseOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findContact(trx, id);
        if (!current) throw notFound('contact', id);
        await repo.deleteContact(trx, id);
        await recordAudit(trx, deps, actor, 'contact.deleted', { type: 'contact', id }, {});
      }),
    () =>
      new AppError(
        'IN_USE',
        'Invitations or emails refer to this contact; delete those invitations first, or keep the contact.',
      ),
  );
}

/**
 * The rule "every referenced contact exists" for other modules: the rows, in the order asked, or a
 * VALIDATION_FAILED naming each missing id at `path/i`.
 */
export async function requireContacts(conn: Conn, ids: readonly string[], path: string): Promise<Contact[]> {
  const rows = await repo.findContactsByIds(conn, ids);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const errors: FieldError[] = [];
  ids.forEach((id, i) => {
    if (!byId.has(id)) errors.push({ path: `${path}/${i}`, message: `No contact with id ${id}.` });
  });
  throwIfInvalid(errors);
  return ids.map((id) => byId.get(id) as Contact);
}

export async function requireContact(conn: Conn, id: string, path: string): Promise<Contact> {
  const row = await repo.findContact(conn, id);
  if (!row) throw invalid(path, `No contact with id ${id}.`);
  return row;
}

export async function requireAccount(conn: Conn, id: string, path: string): Promise<void> {
  if (!(await accounts.findAccount(conn, id))) throw invalid(path, `No account with id ${id}.`);
}

/**
 * What redemption grants a contact: the parent account (when set) and web roles (added), as
 * statements for the redemption's write batch (db/write-batch.ts).
 */
export const grantWrites = (
  trx: Conn,
  contactId: string,
  grant: { accountId: string | null; webRoleIds: readonly string[]; at: string },
) => [
  ...(grant.accountId === null
    ? []
    : [repo.setParentAccountWrite(trx, contactId, grant.accountId, grant.at)]),
  ...repo.addContactWebRolesWrites(trx, contactId, grant.webRoleIds, grant.at),
];

/** Contact ids by primary email (lower-cased keys), for the CLI's CSV of emails. */
export const findContactIdsByEmails = (conn: Conn, emails: readonly string[]) =>
  repo.findContactIdsByEmails(
    conn,
    emails.map((e) => e.toLowerCase()),
  );

/**
 * The ids of every contact matching `search` (all contacts without one), newest first, a page at a
 * time with the event loop free between pages.
 */
export async function* contactIdsMatching(deps: Deps, search: string | undefined): AsyncGenerator<string[]> {
  for (let before: string | undefined; ; ) {
    const page = await repo.findContactIds(deps.db, { search: search || undefined, before, limit: 2_000 });
    if (page.length === 0) return;
    yield page;
    before = page[page.length - 1];
    await turn();
  }
}
