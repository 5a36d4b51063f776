import type { Actor, Deps } from '../../context.ts';
import { uniqueOr } from '../../db/dialect.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { checkHtmlLiquid } from '../../mail/liquid.ts';
import { recordAudit } from '../events/event.ts';
import * as repo from './web-page.repository.ts';
import { getWebsite, requireWebRolesOfWebsite } from './website.service.ts';

export type { WebPage } from './web-page.repository.ts';

/**
 * Portal web pages at {base}/p/{path} (SPEC 2 WebPage): Liquid content; `public` pages are for
 * anyone, the others for signed-in contacts, and only those with one of `webRoleIds` when any are
 * listed. The roles must be the website's own.
 */
export interface WebPageInput {
  path: string;
  title: string;
  content: string;
  public?: boolean;
  webRoleIds?: string[];
}

const pathConflict = <T>(work: () => Promise<T>, path: string) =>
  uniqueOr(
    work,
    () => new AppError('WEB_PAGE_PATH_TAKEN', `The website already has a web page at "${path}".`),
  );

const checkContent = (content: string) => checkHtmlLiquid(content, '/content');

export async function createWebPage(
  deps: Deps,
  actor: Actor,
  websiteId: string,
  input: WebPageInput,
): Promise<repo.WebPage> {
  checkContent(input.content);
  const at = deps.now().toISOString();
  const page: repo.WebPage = {
    id: newId(),
    websiteId,
    path: input.path,
    title: input.title,
    content: input.content,
    public: input.public ?? false,
    webRoleIds: [...new Set(input.webRoleIds ?? [])].sort(),
    createdAt: at,
    updatedAt: at,
  };
  return pathConflict(
    () =>
      deps.db.transaction().execute(async (trx) => {
        await getWebsite(deps, websiteId, trx);
        await requireWebRolesOfWebsite(trx, websiteId, page.webRoleIds, '/webRoleIds');
        await repo.insertWebPage(trx, page);
        await recordAudit(
          trx,
          deps,
          actor,
          'web_page.created',
          { type: 'web_page', id: page.id },
          {
            websiteId,
            path: page.path,
            public: page.public,
            webRoleIds: page.webRoleIds,
          },
        );
        return page;
      }),
    input.path,
  );
}

export async function getWebPage(deps: Deps, id: string): Promise<repo.WebPage> {
  const p = await repo.findWebPage(deps.db, id);
  if (!p) throw notFound('web page', id);
  return p;
}

export async function listWebPages(
  deps: Deps,
  websiteId: string,
  q: { limit: number; cursor?: string },
): Promise<Page<repo.WebPage>> {
  await getWebsite(deps, websiteId);
  const rows = await repo.findWebPagesOfWebsite(deps.db, {
    websiteId,
    before: decodeCursor(q.cursor),
    limit: q.limit + 1,
  });
  return toPage(rows, q.limit);
}

export async function updateWebPage(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: Partial<WebPageInput>,
): Promise<repo.WebPage> {
  if (patch.content !== undefined) checkContent(patch.content);
  return pathConflict(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findWebPage(trx, id);
        if (!current) throw notFound('web page', id);
        const next: repo.WebPage = {
          ...current,
          ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
          webRoleIds: patch.webRoleIds ? [...new Set(patch.webRoleIds)].sort() : current.webRoleIds,
          updatedAt: deps.now().toISOString(),
        };
        await requireWebRolesOfWebsite(trx, current.websiteId, next.webRoleIds, '/webRoleIds');
        await repo.updateWebPage(trx, next);
        await recordAudit(
          trx,
          deps,
          actor,
          'web_page.updated',
          { type: 'web_page', id },
          {
            changes: { ...patch, content: patch.content === undefined ? undefined : '[changed]' },
          },
        );
        return next;
      }),
    patch.path ?? '',
  );
}

export async function deleteWebPage(deps: Deps, actor: Actor, id: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const current = await repo.findWebPage(trx, id);
    if (!current) throw notFound('web page', id);
    await repo.deleteWebPage(trx, id);
    await recordAudit(
      trx,
      deps,
      actor,
      'web_page.deleted',
      { type: 'web_page', id },
      {
        websiteId: current.websiteId,
        path: current.path,
      },
    );
  });
}

/** The page a portal path names, or undefined. */
export const findWebPageByPath = (deps: Deps, websiteId: string, path: string) =>
  repo.findWebPageByPath(deps.db, websiteId, path);
