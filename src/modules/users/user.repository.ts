import { type Selectable, sql } from 'kysely';
import type { Conn } from '../../db/database.ts';
import type { ApiKeysTable, UsersTable } from '../../db/schema.ts';
import { bool, flag, instant, likeContains } from '../../db/values.ts';

export interface User {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'operator';
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  lastUsedAt: string | null;
  createdAt: string;
}

const toUser = (r: Selectable<UsersTable>): User => ({
  id: r.id,
  name: r.name,
  email: r.email,
  role: r.role,
  disabled: flag(r.disabled),
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const toApiKey = (r: Selectable<ApiKeysTable>): ApiKey => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  prefix: r.prefix,
  lastUsedAt: instant(r.last_used_at),
  createdAt: instant(r.created_at),
});

export async function insertUser(conn: Conn, u: User): Promise<void> {
  await conn
    .insertInto('users')
    .values({
      id: u.id,
      name: u.name,
      email: u.email,
      email_normalized: u.email.toLowerCase(),
      role: u.role,
      disabled: bool(u.disabled),
      password_hash: null,
      created_at: u.createdAt,
      updated_at: u.updatedAt,
    })
    .execute();
}

export async function findUser(conn: Conn, id: string): Promise<User | undefined> {
  const r = await conn.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toUser(r);
}

export async function findUsersByIds(conn: Conn, ids: readonly string[]): Promise<User[]> {
  if (ids.length === 0) return [];
  return (await conn.selectFrom('users').selectAll().where('id', 'in', ids).execute()).map(toUser);
}

export async function findUserByEmail(conn: Conn, email: string): Promise<User | undefined> {
  const r = await conn
    .selectFrom('users')
    .selectAll()
    .where('email_normalized', '=', email.toLowerCase())
    .executeTakeFirst();
  return r && toUser(r);
}

export async function insertApiKey(conn: Conn, k: ApiKey, secretHash: string): Promise<void> {
  await conn
    .insertInto('api_keys')
    .values({
      id: k.id,
      user_id: k.userId,
      name: k.name,
      prefix: k.prefix,
      secret_hash: secretHash,
      last_used_at: null,
      created_at: k.createdAt,
    })
    .execute();
}

/** The key with this secret hash and its user, if the key exists. */
export async function findApiKeyBySecretHash(
  conn: Conn,
  secretHash: string,
): Promise<{ key: ApiKey; user: User } | undefined> {
  const k = await conn
    .selectFrom('api_keys')
    .selectAll()
    .where('secret_hash', '=', secretHash)
    .executeTakeFirst();
  if (!k) return undefined;
  const user = await findUser(conn, k.user_id);
  return user && { key: toApiKey(k), user };
}

export async function touchApiKey(conn: Conn, id: string, at: string): Promise<void> {
  await conn.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

/** The oldest enabled administrator, if any. */
export async function findFirstAdmin(conn: Conn): Promise<User | undefined> {
  const r = await conn
    .selectFrom('users')
    .selectAll()
    .where('role', '=', 'admin')
    .where('disabled', '=', bool(false))
    .orderBy('id')
    .executeTakeFirst();
  return r && toUser(r);
}

export async function findUsers(
  conn: Conn,
  q: { search?: string; before?: string; limit: number },
): Promise<User[]> {
  let query = conn.selectFrom('users').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  if (q.search)
    query = query.where(
      sql<boolean>`lower(name || ' ' || email_normalized) like ${likeContains(q.search)} escape '\\'`,
    );
  return (await query.execute()).map(toUser);
}

export async function updateUser(conn: Conn, u: User): Promise<void> {
  await conn
    .updateTable('users')
    .set({ name: u.name, role: u.role, disabled: bool(u.disabled), updated_at: u.updatedAt })
    .where('id', '=', u.id)
    .execute();
}

export async function countEnabledAdmins(conn: Conn): Promise<number> {
  const r = await conn
    .selectFrom('users')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('role', '=', 'admin')
    .where('disabled', '=', bool(false))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function findApiKeys(
  conn: Conn,
  q: { userId?: string; before?: string; limit: number },
): Promise<ApiKey[]> {
  let query = conn.selectFrom('api_keys').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.userId) query = query.where('user_id', '=', q.userId);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toApiKey);
}

export async function findApiKey(conn: Conn, id: string): Promise<ApiKey | undefined> {
  const r = await conn.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toApiKey(r);
}

export async function deleteApiKey(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('api_keys').where('id', '=', id).execute();
}

/** A user's password hash and whether it must be changed (sign-in only; never in a response). */
export async function findCredentials(
  conn: Conn,
  id: string,
): Promise<{ passwordHash: string | null; mustChangePassword: boolean } | undefined> {
  const r = await conn
    .selectFrom('users')
    .select(['password_hash', 'must_change_password'])
    .where('id', '=', id)
    .executeTakeFirst();
  return r && { passwordHash: r.password_hash, mustChangePassword: flag(r.must_change_password) };
}

export async function setPassword(
  conn: Conn,
  id: string,
  hash: string,
  mustChange: boolean,
  at: string,
): Promise<void> {
  await conn
    .updateTable('users')
    .set({ password_hash: hash, must_change_password: bool(mustChange), updated_at: at })
    .where('id', '=', id)
    .execute();
}

/** Users who can sign in with a password of their own (not a one-time password still to change). */
export async function countUsersWithOwnPassword(conn: Conn): Promise<number> {
  const r = await conn
    .selectFrom('users')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('password_hash', 'is not', null)
    .where('must_change_password', '=', bool(false))
    .where('disabled', '=', bool(false))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Every enabled administrator (who is told of trouble the console cannot show at once). */
export async function findEnabledAdmins(conn: Conn): Promise<User[]> {
  const rows = await conn
    .selectFrom('users')
    .selectAll()
    .where('role', '=', 'admin')
    .where('disabled', '=', bool(false))
    .orderBy('id')
    .execute();
  return rows.map(toUser);
}
