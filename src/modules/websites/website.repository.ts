import type { Selectable } from 'kysely';
import type { Conn } from '../../db/database.ts';
import type { WebRolesTable, WebsitesTable } from '../../db/schema.ts';
import { instant, json, parsed } from '../../db/values.ts';
import { type WebsiteSettings, withDefaults } from './website.settings.ts';

export interface WebsiteRow {
  id: string;
  name: string;
  slug: string;
  /** As stored: null means the default under PUBLIC_URL (resolved by the service). */
  baseUrl: string | null;
  settings: WebsiteSettings;
  existingUserPath: string | null;
  redirectPath: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebRole {
  id: string;
  websiteId: string;
  name: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

const toWebsite = (r: Selectable<WebsitesTable>): WebsiteRow => ({
  id: r.id,
  name: r.name,
  slug: r.slug,
  baseUrl: r.base_url,
  settings: withDefaults(parsed(r.settings)),
  existingUserPath: r.existing_user_path,
  redirectPath: r.redirect_path,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const toWebRole = (r: Selectable<WebRolesTable>): WebRole => ({
  id: r.id,
  websiteId: r.website_id,
  name: r.name,
  description: r.description,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

export async function insertWebsite(conn: Conn, w: WebsiteRow): Promise<void> {
  await conn
    .insertInto('websites')
    .values({
      id: w.id,
      name: w.name,
      slug: w.slug,
      base_url: w.baseUrl,
      settings: json(w.settings),
      existing_user_path: w.existingUserPath,
      redirect_path: w.redirectPath,
      created_at: w.createdAt,
      updated_at: w.updatedAt,
    })
    .execute();
}

export async function updateWebsite(conn: Conn, w: WebsiteRow): Promise<void> {
  await conn
    .updateTable('websites')
    .set({
      name: w.name,
      slug: w.slug,
      base_url: w.baseUrl,
      settings: json(w.settings),
      existing_user_path: w.existingUserPath,
      redirect_path: w.redirectPath,
      updated_at: w.updatedAt,
    })
    .where('id', '=', w.id)
    .execute();
}

export async function findWebsite(conn: Conn, id: string): Promise<WebsiteRow | undefined> {
  const r = await conn.selectFrom('websites').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toWebsite(r);
}

export async function findWebsiteBySlug(conn: Conn, slug: string): Promise<WebsiteRow | undefined> {
  const r = await conn.selectFrom('websites').selectAll().where('slug', '=', slug).executeTakeFirst();
  return r && toWebsite(r);
}

export async function findWebsites(conn: Conn, q: { before?: string; limit: number }): Promise<WebsiteRow[]> {
  let query = conn.selectFrom('websites').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toWebsite);
}

export async function insertWebRole(conn: Conn, r: WebRole): Promise<void> {
  await conn
    .insertInto('web_roles')
    .values({
      id: r.id,
      website_id: r.websiteId,
      name: r.name,
      description: r.description,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    })
    .execute();
}

export async function updateWebRole(conn: Conn, r: WebRole): Promise<void> {
  await conn
    .updateTable('web_roles')
    .set({ name: r.name, description: r.description, updated_at: r.updatedAt })
    .where('id', '=', r.id)
    .execute();
}

export async function deleteWebRole(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('web_roles').where('id', '=', id).execute();
}

export async function findWebRole(conn: Conn, id: string): Promise<WebRole | undefined> {
  const r = await conn.selectFrom('web_roles').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toWebRole(r);
}

export async function findWebRolesByIds(conn: Conn, ids: readonly string[]): Promise<WebRole[]> {
  if (ids.length === 0) return [];
  const rows = await conn.selectFrom('web_roles').selectAll().where('id', 'in', ids).execute();
  return rows.map(toWebRole);
}

export async function findWebRolesOfWebsite(
  conn: Conn,
  q: { websiteId: string; before?: string; limit: number },
): Promise<WebRole[]> {
  let query = conn
    .selectFrom('web_roles')
    .selectAll()
    .where('website_id', '=', q.websiteId)
    .orderBy('id', 'desc')
    .limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toWebRole);
}
