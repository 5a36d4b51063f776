import type { Selectable } from 'kysely';
import type { Conn } from '../../db/database.ts';
import type { WebPagesTable } from '../../db/schema.ts';
import { bool, flag, instant } from '../../db/values.ts';

export interface WebPage {
  id: string;
  websiteId: string;
  path: string;
  title: string;
  content: string;
  public: boolean;
  webRoleIds: string[];
  createdAt: string;
  updatedAt: string;
}

const toPage = (r: Selectable<WebPagesTable>, webRoleIds: string[]): WebPage => ({
  id: r.id,
  websiteId: r.website_id,
  path: r.path,
  title: r.title,
  content: r.content,
  public: flag(r.public),
  webRoleIds,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

async function withRoles(conn: Conn, rows: Selectable<WebPagesTable>[]): Promise<WebPage[]> {
  if (rows.length === 0) return [];
  const links = await conn
    .selectFrom('web_page_roles')
    .select(['web_page_id', 'web_role_id'])
    .where(
      'web_page_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('web_role_id')
    .execute();
  return rows.map((r) =>
    toPage(
      r,
      links.filter((l) => l.web_page_id === r.id).map((l) => l.web_role_id),
    ),
  );
}

export async function findWebPage(conn: Conn, id: string): Promise<WebPage | undefined> {
  const r = await conn.selectFrom('web_pages').selectAll().where('id', '=', id).executeTakeFirst();
  return r && (await withRoles(conn, [r]))[0];
}

export async function findWebPageByPath(
  conn: Conn,
  websiteId: string,
  path: string,
): Promise<WebPage | undefined> {
  const r = await conn
    .selectFrom('web_pages')
    .selectAll()
    .where('website_id', '=', websiteId)
    .where('path', '=', path)
    .executeTakeFirst();
  return r && (await withRoles(conn, [r]))[0];
}

export async function findWebPagesOfWebsite(
  conn: Conn,
  q: { websiteId: string; before?: string; limit: number },
): Promise<WebPage[]> {
  let query = conn
    .selectFrom('web_pages')
    .selectAll()
    .where('website_id', '=', q.websiteId)
    .orderBy('id', 'desc')
    .limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  return withRoles(conn, await query.execute());
}

export async function insertWebPage(conn: Conn, p: WebPage): Promise<void> {
  await conn
    .insertInto('web_pages')
    .values({
      id: p.id,
      website_id: p.websiteId,
      path: p.path,
      title: p.title,
      content: p.content,
      public: bool(p.public),
      created_at: p.createdAt,
      updated_at: p.updatedAt,
    })
    .execute();
  await setRoles(conn, p.id, p.webRoleIds);
}

export async function updateWebPage(conn: Conn, p: WebPage): Promise<void> {
  await conn
    .updateTable('web_pages')
    .set({
      path: p.path,
      title: p.title,
      content: p.content,
      public: bool(p.public),
      updated_at: p.updatedAt,
    })
    .where('id', '=', p.id)
    .execute();
  await conn.deleteFrom('web_page_roles').where('web_page_id', '=', p.id).execute();
  await setRoles(conn, p.id, p.webRoleIds);
}

async function setRoles(conn: Conn, id: string, roleIds: readonly string[]): Promise<void> {
  if (roleIds.length === 0) return;
  await conn
    .insertInto('web_page_roles')
    .values(roleIds.map((web_role_id) => ({ web_page_id: id, web_role_id })))
    .execute();
}

export async function deleteWebPage(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('web_pages').where('id', '=', id).execute();
}
