import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { inUseOr, uniqueOr } from '../../db/dialect.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, invalid, notFound, throwIfInvalid } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { recordAudit } from '../events/event.ts';
import type { WebRole } from './website.repository.ts';
import * as repo from './website.repository.ts';
import { defaultSettings, type WebsiteSettings } from './website.settings.ts';

export type { WebRole };

/** A website as clients see it: `baseUrl` resolved against PUBLIC_URL when not set. */
export interface Website extends Omit<repo.WebsiteRow, 'baseUrl'> {
  baseUrl: string;
  /** True when baseUrl is the default derived from PUBLIC_URL and the slug. */
  baseUrlIsDefault: boolean;
}

export interface WebsiteInput {
  name: string;
  slug: string;
  baseUrl?: string | null;
  settings?: Partial<WebsiteSettings>;
  existingUserPath?: string | null;
  redirectPath?: string | null;
}

const present = (deps: Deps, w: repo.WebsiteRow): Website => ({
  ...w,
  baseUrl: w.baseUrl ?? `${deps.config.publicUrl}/portal/${w.slug}`,
  baseUrlIsDefault: w.baseUrl === null,
});

/** An absolute http(s) URL without query or fragment, without a trailing slash. */
function normaliseBaseUrl(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('/baseUrl', 'baseUrl must be an absolute URL such as https://portal.example.com');
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.search || u.hash || u.username || u.password) {
    throw invalid('/baseUrl', 'baseUrl must be an http(s) URL without credentials, query or fragment');
  }
  return u.toString().replace(/\/+$/, '');
}

function checkSettings(s: WebsiteSettings): void {
  if (!Number.isInteger(s.defaultInvitationLifetimeDays) || s.defaultInvitationLifetimeDays < 1) {
    throw invalid(
      '/settings/defaultInvitationLifetimeDays',
      'defaultInvitationLifetimeDays must be a whole number of days, at least 1',
    );
  }
}

const slugConflict = <T>(work: () => Promise<T>, slug: string): Promise<T> =>
  uniqueOr(work, () => new AppError('SLUG_TAKEN', `Another website already uses the slug "${slug}".`));

export async function createWebsite(deps: Deps, actor: Actor, input: WebsiteInput): Promise<Website> {
  const now = deps.now().toISOString();
  const settings = { ...defaultSettings, ...input.settings };
  checkSettings(settings);
  const row: repo.WebsiteRow = {
    id: newId(),
    name: input.name,
    slug: input.slug,
    baseUrl: normaliseBaseUrl(input.baseUrl),
    settings,
    existingUserPath: input.existingUserPath ?? null,
    redirectPath: input.redirectPath ?? null,
    createdAt: now,
    updatedAt: now,
  };
  await slugConflict(
    () =>
      deps.db.transaction().execute(async (trx) => {
        await repo.insertWebsite(trx, row);
        await recordAudit(
          trx,
          deps,
          actor,
          'website.created',
          { type: 'website', id: row.id },
          { name: row.name, slug: row.slug },
        );
      }),
    row.slug,
  );
  return present(deps, row);
}

export async function getWebsite(deps: Deps, id: string, conn: Conn = deps.db): Promise<Website> {
  const w = await repo.findWebsite(conn, id);
  if (!w) throw notFound('website', id);
  return present(deps, w);
}

/**
 * Every portal request names its website by slug, so lookups are kept for WEBSITE_CACHE_MS per
 * process (and database handle). A change made through this process clears them at once; other
 * processes see it within that second.
 */
const WEBSITE_CACHE_MS = 1000;
const slugCaches = new WeakMap<object, Map<string, { until: number; website: Website }>>();

async function cachedWebsite(
  deps: Deps,
  key: string,
  load: () => Promise<repo.WebsiteRow | undefined>,
): Promise<Website | undefined> {
  let cache = slugCaches.get(deps.db);
  if (!cache) {
    cache = new Map();
    slugCaches.set(deps.db, cache);
  }
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.website;
  const w = await load();
  if (!w) return undefined;
  const website = present(deps, w);
  if (cache.size > 1000) cache.clear();
  cache.set(key, { until: Date.now() + WEBSITE_CACHE_MS, website });
  return website;
}

/** The website of a portal URL, or undefined. */
export const findWebsiteBySlug = (deps: Deps, slug: string): Promise<Website | undefined> =>
  cachedWebsite(deps, `slug:${slug}`, () => repo.findWebsiteBySlug(deps.db, slug));

/** A website's settings as of at most WEBSITE_CACHE_MS ago (the redemption's hot path). */
export async function getWebsiteSettings(deps: Deps, id: string): Promise<Website['settings']> {
  const w = await cachedWebsite(deps, `id:${id}`, () => repo.findWebsite(deps.db, id));
  if (!w) throw notFound('website', id);
  return w.settings;
}

export async function listWebsites(
  deps: Deps,
  q: { limit: number; cursor?: string },
): Promise<Page<Website>> {
  const rows = await repo.findWebsites(deps.db, { before: decodeCursor(q.cursor), limit: q.limit + 1 });
  return toPage(
    rows.map((r) => present(deps, r)),
    q.limit,
  );
}

export async function updateWebsite(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: Partial<WebsiteInput>,
): Promise<Website> {
  const updated = await slugConflict(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findWebsite(trx, id);
        if (!current) throw notFound('website', id);
        const next: repo.WebsiteRow = {
          ...current,
          name: patch.name ?? current.name,
          slug: patch.slug ?? current.slug,
          baseUrl: patch.baseUrl === undefined ? current.baseUrl : normaliseBaseUrl(patch.baseUrl),
          settings: { ...current.settings, ...patch.settings },
          existingUserPath:
            patch.existingUserPath === undefined ? current.existingUserPath : patch.existingUserPath,
          redirectPath: patch.redirectPath === undefined ? current.redirectPath : patch.redirectPath,
          updatedAt: deps.now().toISOString(),
        };
        checkSettings(next.settings);
        await repo.updateWebsite(trx, next);
        await recordAudit(trx, deps, actor, 'website.updated', { type: 'website', id }, { changes: patch });
        return next;
      }),
    patch.slug ?? '',
  );
  slugCaches.get(deps.db)?.clear();
  return present(deps, updated);
}

const webRoleNameConflict = <T>(work: () => Promise<T>, name: string): Promise<T> =>
  uniqueOr(
    work,
    () => new AppError('WEB_ROLE_NAME_TAKEN', `The website already has a web role named "${name}".`),
  );

export async function createWebRole(
  deps: Deps,
  actor: Actor,
  websiteId: string,
  input: { name: string; description?: string | null },
): Promise<WebRole> {
  const now = deps.now().toISOString();
  const role: WebRole = {
    id: newId(),
    websiteId,
    name: input.name,
    description: input.description ?? null,
    createdAt: now,
    updatedAt: now,
  };
  await webRoleNameConflict(
    () =>
      deps.db.transaction().execute(async (trx) => {
        await getWebsite(deps, websiteId, trx);
        await repo.insertWebRole(trx, role);
        await recordAudit(
          trx,
          deps,
          actor,
          'web_role.created',
          { type: 'web_role', id: role.id },
          { websiteId, name: role.name },
        );
      }),
    role.name,
  );
  return role;
}

export async function listWebRoles(
  deps: Deps,
  websiteId: string,
  q: { limit: number; cursor?: string },
): Promise<Page<WebRole>> {
  await getWebsite(deps, websiteId);
  const rows = await repo.findWebRolesOfWebsite(deps.db, {
    websiteId,
    before: decodeCursor(q.cursor),
    limit: q.limit + 1,
  });
  return toPage(rows, q.limit);
}

export async function updateWebRole(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: { name?: string; description?: string | null },
): Promise<WebRole> {
  return webRoleNameConflict(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findWebRole(trx, id);
        if (!current) throw notFound('web role', id);
        const next: WebRole = {
          ...current,
          name: patch.name ?? current.name,
          description: patch.description === undefined ? current.description : patch.description,
          updatedAt: deps.now().toISOString(),
        };
        await repo.updateWebRole(trx, next);
        await recordAudit(trx, deps, actor, 'web_role.updated', { type: 'web_role', id }, { changes: patch });
        return next;
      }),
    patch.name ?? '',
  );
}

/**
 * Deletes a web role and removes it from every contact that holds it. Refused (409 IN_USE) while an
 * invitation would grant it: silently changing what a sent invitation grants would surprise.
 */
export async function deleteWebRole(deps: Deps, actor: Actor, id: string): Promise<void> {
  await inUseOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findWebRole(trx, id);
        if (!current) throw notFound('web role', id);
        await repo.deleteWebRole(trx, id);
        await recordAudit(
          trx,
          deps,
          actor,
          'web_role.deleted',
          { type: 'web_role', id },
          { websiteId: current.websiteId, name: current.name },
        );
      }),
    () => new AppError('IN_USE', 'Invitations still assign this web role; edit or delete them first.'),
  );
}

/**
 * The rule "web roles must belong to the website", in one place. Throws VALIDATION_FAILED naming
 * each role that does not exist or belongs to another website. Returns the roles.
 */
export async function requireWebRolesOfWebsite(
  conn: Conn,
  websiteId: string,
  roleIds: readonly string[],
  path = '/webRoleIds',
): Promise<WebRole[]> {
  const unique = [...new Set(roleIds)];
  const roles = await repo.findWebRolesByIds(conn, unique);
  const byId = new Map(roles.map((r) => [r.id, r]));
  const errors = unique.flatMap((rid) => {
    const role = byId.get(rid);
    if (!role) return [{ path: `${path}/${roleIds.indexOf(rid)}`, message: `No web role with id ${rid}.` }];
    if (role.websiteId !== websiteId) {
      return [
        {
          path: `${path}/${roleIds.indexOf(rid)}`,
          message: `The web role ${rid} belongs to another website.`,
        },
      ];
    }
    return [];
  });
  throwIfInvalid(errors);
  return roles;
}

/** Web roles by id, any website (for presenting a contact's roles). */

export async function websiteExists(conn: Conn, id: string): Promise<boolean> {
  return (await repo.findWebsite(conn, id)) !== undefined;
}
