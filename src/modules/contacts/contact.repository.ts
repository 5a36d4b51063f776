import { type CompiledQuery, type Selectable, sql } from 'kysely';
import type { Conn } from '../../db/database.ts';
import { PLAN_EACH_CALL } from '../../db/pg-prepared.ts';
import type { ContactsTable } from '../../db/schema.ts';
import { bool, flag, instant, likeContains } from '../../db/values.ts';

/** A contact as stored, without its web roles and external logins (see `ContactWithRoles` in the service). */
export interface Contact {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  email2: string | null;
  email3: string | null;
  parentAccountId: string | null;
  username: string | null;
  loginEnabled: boolean;
  emailConfirmed: boolean;
  lastSignInAt: string | null;
  /** A new primary email waiting for confirmation; `email` stays the primary email until then. */
  pendingEmail: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A contacts row as the driver returns it, as a Contact. */
export const toContact = (r: Selectable<ContactsTable>): Contact => ({
  id: r.id,
  firstName: r.first_name,
  lastName: r.last_name,
  email: r.email,
  email2: r.email2,
  email3: r.email3,
  parentAccountId: r.parent_account_id,
  username: r.username,
  loginEnabled: flag(r.login_enabled),
  emailConfirmed: flag(r.email_confirmed),
  lastSignInAt: instant(r.last_sign_in_at),
  pendingEmail: r.pending_email,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const lower = (s: string | null) => (s === null ? null : s.toLowerCase());

const columns = (c: Contact) => ({
  first_name: c.firstName,
  last_name: c.lastName,
  email: c.email,
  email_normalized: lower(c.email),
  email2: c.email2,
  email3: c.email3,
  parent_account_id: c.parentAccountId,
  username: c.username,
  username_normalized: lower(c.username),
  login_enabled: bool(c.loginEnabled),
  email_confirmed: bool(c.emailConfirmed),
  last_sign_in_at: c.lastSignInAt,
  pending_email: c.pendingEmail,
  updated_at: c.updatedAt,
});

export async function insertContacts(conn: Conn, contacts: readonly Contact[]): Promise<void> {
  if (contacts.length === 0) return;
  await conn
    .insertInto('contacts')
    .values(contacts.map((c) => ({ id: c.id, ...columns(c), password_hash: null, created_at: c.createdAt })))
    .execute();
}

export async function updateContact(conn: Conn, c: Contact): Promise<void> {
  await conn.updateTable('contacts').set(columns(c)).where('id', '=', c.id).execute();
}

export async function setPasswordHash(conn: Conn, id: string, passwordHash: string): Promise<void> {
  await conn.updateTable('contacts').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

export async function findPasswordHash(conn: Conn, id: string): Promise<string | null> {
  const r = await conn.selectFrom('contacts').select('password_hash').where('id', '=', id).executeTakeFirst();
  return r?.password_hash ?? null;
}

export async function setLastSignIn(conn: Conn, id: string, at: string): Promise<void> {
  await conn.updateTable('contacts').set({ last_sign_in_at: at }).where('id', '=', id).execute();
}

export const setParentAccountWrite = (conn: Conn, id: string, accountId: string, at: string) =>
  conn
    .updateTable('contacts')
    .set({ parent_account_id: accountId, updated_at: at })
    .where('id', '=', id)
    .compile();

export async function deleteContact(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('contacts').where('id', '=', id).execute();
}

export async function findContact(conn: Conn, id: string): Promise<Contact | undefined> {
  const r = await conn.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toContact(r);
}

export async function findContactsByIds(conn: Conn, ids: readonly string[]): Promise<Contact[]> {
  const out: Contact[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await conn
      .selectFrom('contacts')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.push(toContact(r));
  }
  return out;
}

/** How a list of contacts is ordered: newest first (the default), oldest first, or by name. */
export type ContactSort = 'newest' | 'oldest' | 'name';

/** The key contacts are sorted by name with: last name, then first name, ignoring case. */
const NAME_KEY = sql<string>`lower(last_name || ' ' || first_name)`;

/**
 * A page of contacts in `sort` order, after the cursor: an id (`after`) for newest and oldest
 * first, the last row's name key and id (`afterKey`) by name. Each row carries its `sortKey`.
 */
export async function findContacts(
  conn: Conn,
  q: {
    search?: string;
    accountId?: string;
    sort?: ContactSort;
    after?: string;
    afterKey?: { key: string; id: string };
    limit: number;
  },
): Promise<(Contact & { sortKey: string })[]> {
  let query = conn.selectFrom('contacts').selectAll().select(NAME_KEY.as('sort_key')).limit(q.limit);
  const sort = q.sort ?? 'newest';
  if (sort === 'name') {
    query = query.orderBy(NAME_KEY).orderBy('id');
    if (q.afterKey)
      query = query.where(sql<boolean>`(${NAME_KEY}, id) > (${q.afterKey.key}, ${q.afterKey.id})`);
  } else {
    query = query.orderBy('id', sort === 'oldest' ? 'asc' : 'desc');
    if (q.after) query = query.where('id', sort === 'oldest' ? '>' : '<', q.after);
  }
  if (q.search) query = query.where(searchMatches(q.search));
  if (q.accountId) query = query.where('parent_account_id', '=', q.accountId);
  return (await query.execute()).map((r) => ({ ...toContact(r), sortKey: r.sort_key }));
}

/** How many contacts match the search (and belong to the account), for "select all N matching". */
export async function countContacts(conn: Conn, q: { search?: string; accountId?: string }): Promise<number> {
  let query = conn.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n'));
  if (q.search) query = query.where(searchMatches(q.search));
  if (q.accountId) query = query.where('parent_account_id', '=', q.accountId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** The ids of the contacts `findContacts` finds, newest first. */
export async function findContactIds(
  conn: Conn,
  q: { search?: string; before?: string; limit: number },
): Promise<string[]> {
  let query = conn.selectFrom('contacts').select('id').orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  if (q.search) query = query.where(searchMatches(q.search));
  return (await query.execute()).map((r) => r.id);
}

/**
 * The contact search: the expression of the contacts__search trigram index on PostgreSQL (keep the
 * two alike). Planned for each term: a rare one goes through that index, a common one down the
 * primary key.
 */
export const searchMatches = (search: string) =>
  sql<boolean>`${sql.raw(PLAN_EACH_CALL)} lower(first_name || ' ' || last_name || ' ' || coalesce(email_normalized, '')) like ${likeContains(search)} escape '\\'`;

export async function findContactByUsername(conn: Conn, username: string): Promise<Contact | undefined> {
  const r = await conn
    .selectFrom('contacts')
    .selectAll()
    .where('username_normalized', '=', username.toLowerCase())
    .executeTakeFirst();
  return r && toContact(r);
}

/**
 * In one query, the contacts a registration must weigh: those whose primary email is `email`, the one
 * with id `id`, and the one whose username is `username` (each may be absent or the same contact).
 */
export async function findRegistrationContacts(
  conn: Conn,
  q: { email: string; id: string | null; username: string | null },
): Promise<Contact[]> {
  const rows = await conn
    .selectFrom('contacts')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('email_normalized', '=', q.email.toLowerCase()),
        ...(q.id === null ? [] : [eb('id', '=', q.id)]),
        ...(q.username === null ? [] : [eb('username_normalized', '=', q.username.toLowerCase())]),
      ]),
    )
    .execute();
  return rows.map(toContact);
}

/**
 * The statement that stores a contact after registration (a write batch's), with its password hash;
 * without one (a registration through an identity provider) a new contact has none and an existing
 * one keeps its own.
 */
export const saveContactWrite = (conn: Conn, c: Contact, isNew: boolean, passwordHash?: string) =>
  isNew
    ? conn
        .insertInto('contacts')
        .values({ id: c.id, ...columns(c), password_hash: passwordHash ?? null, created_at: c.createdAt })
        .compile()
    : conn
        .updateTable('contacts')
        .set({ ...columns(c), ...(passwordHash === undefined ? {} : { password_hash: passwordHash }) })
        .where('id', '=', c.id)
        .compile();

/** Contacts whose primary email is `email` (any case). */
export async function findContactsByEmail(conn: Conn, email: string): Promise<Contact[]> {
  const rows = await conn
    .selectFrom('contacts')
    .selectAll()
    .where('email_normalized', '=', email.toLowerCase())
    .execute();
  return rows.map(toContact);
}

/** For each primary email (lower-cased) that some contact has: the oldest such contact's id. */
export async function findContactIdsByEmails(
  conn: Conn,
  emails: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < emails.length; i += 500) {
    const rows = await conn
      .selectFrom('contacts')
      .select(['id', 'email_normalized'])
      .where('email_normalized', 'in', emails.slice(i, i + 500))
      .orderBy('id')
      .execute();
    for (const r of rows)
      if (r.email_normalized && !found.has(r.email_normalized)) found.set(r.email_normalized, r.id);
  }
  return found;
}

export async function findWebRoleIdsOfContacts(
  conn: Conn,
  ids: readonly string[],
): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return map;
  const rows = await conn
    .selectFrom('contact_web_roles')
    .select(['contact_id', 'web_role_id'])
    .where('contact_id', 'in', ids)
    .orderBy('web_role_id')
    .execute();
  for (const r of rows) map.get(r.contact_id)?.push(r.web_role_id);
  return map;
}

/** Adds roles the contact does not hold yet; roles it holds are left alone. */
export async function addContactWebRoles(
  conn: Conn,
  contactId: string,
  roleIds: readonly string[],
  at: string,
): Promise<void> {
  for (const q of addContactWebRolesWrites(conn, contactId, roleIds, at)) await conn.executeQuery(q);
}

export const addContactWebRolesWrites = (
  conn: Conn,
  contactId: string,
  roleIds: readonly string[],
  at: string,
): CompiledQuery[] =>
  roleIds.length === 0
    ? []
    : [
        conn
          .insertInto('contact_web_roles')
          .values(roleIds.map((web_role_id) => ({ contact_id: contactId, web_role_id, created_at: at })))
          .onConflict((oc) => oc.columns(['contact_id', 'web_role_id']).doNothing())
          .compile(),
      ];

export async function removeContactWebRoles(
  conn: Conn,
  contactId: string,
  keep: readonly string[],
): Promise<void> {
  let query = conn.deleteFrom('contact_web_roles').where('contact_id', '=', contactId);
  if (keep.length > 0) query = query.where('web_role_id', 'not in', keep);
  await query.execute();
}

/** Removes these roles from the contact (those it does not hold are ignored). */
export async function deleteContactWebRoles(
  conn: Conn,
  contactId: string,
  roleIds: readonly string[],
): Promise<void> {
  if (roleIds.length === 0) return;
  await conn
    .deleteFrom('contact_web_roles')
    .where('contact_id', '=', contactId)
    .where('web_role_id', 'in', roleIds)
    .execute();
}
