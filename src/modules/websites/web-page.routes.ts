import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf } from '../../http/auth.ts';
import { IdParams, ListQuery, PageOf, problems } from '../../http/schemas.ts';
import * as service from './web-page.service.ts';
import * as schemas from './website.schemas.ts';

const tags = ['Websites'];

export async function webPageRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.post(
    '/websites/:id/web-pages',
    {
      schema: {
        tags,
        summary: 'Create a portal web page',
        params: IdParams,
        body: schemas.CreateWebPage,
        response: { 201: schemas.WebPage, ...problems(400, 404, 409) },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await service.createWebPage(deps, actorOf(req), req.params.id, req.body)),
  );
  app.get(
    '/websites/:id/web-pages',
    {
      schema: {
        tags,
        summary: 'List the web pages of a website',
        params: IdParams,
        querystring: Type.Object(ListQuery),
        response: { 200: PageOf(schemas.WebPage), ...problems(400, 404) },
      },
    },
    async (req) =>
      service.listWebPages(deps, req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );
  app.get(
    '/web-pages/:id',
    {
      schema: {
        tags,
        summary: 'Read a web page',
        params: IdParams,
        response: { 200: schemas.WebPage, ...problems(404) },
      },
    },
    async (req) => service.getWebPage(deps, req.params.id),
  );
  app.patch(
    '/web-pages/:id',
    {
      schema: {
        tags,
        summary: 'Edit a web page',
        params: IdParams,
        body: schemas.UpdateWebPage,
        response: { 200: schemas.WebPage, ...problems(400, 404, 409) },
      },
    },
    async (req) => service.updateWebPage(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/web-pages/:id',
    {
      schema: {
        tags,
        summary: 'Delete a web page',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(404) },
      },
    },
    async (req, reply) => {
      await service.deleteWebPage(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
