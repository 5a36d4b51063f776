import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Conn } from '../../db/database.ts';
import type { AccountsTable } from '../../db/schema.ts';
import { instant, likeContains } from '../../db/values.ts';

export interface Account {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

const toAccount = (r: Selectable<AccountsTable>): Account => ({
  id: r.id,
  name: r.name,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

export async function insertAccount(conn: Conn, a: Account): Promise<void> {
  await conn
    .insertInto('accounts')
    .values({ id: a.id, name: a.name, created_at: a.createdAt, updated_at: a.updatedAt })
    .execute();
}

export async function updateAccount(conn: Conn, a: Account): Promise<void> {
  await conn
    .updateTable('accounts')
    .set({ name: a.name, updated_at: a.updatedAt })
    .where('id', '=', a.id)
    .execute();
}

export async function deleteAccount(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('accounts').where('id', '=', id).execute();
}

export async function findAccount(conn: Conn, id: string): Promise<Account | undefined> {
  const r = await conn.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toAccount(r);
}

export async function findAccounts(
  conn: Conn,
  q: { search?: string; before?: string; limit: number },
): Promise<Account[]> {
  let query = conn.selectFrom('accounts').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  if (q.search) query = query.where(sql<boolean>`lower(name) like ${likeContains(q.search)} escape '\\'`);
  return (await query.execute()).map(toAccount);
}
