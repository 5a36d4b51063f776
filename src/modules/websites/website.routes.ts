import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf, onlyAdministrators } from '../../http/auth.ts';
import { IdParams, ListQuery, PageOf, problems } from '../../http/schemas.ts';
import * as schemas from './website.schemas.ts';
import * as service from './website.service.ts';

const tags = ['Websites'];

export async function websiteRoutes(app: ApiApp, deps: Deps): Promise<void> {
  const onlyAdmins = onlyAdministrators('create websites or change their settings');
  app.post(
    '/websites',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Create a website',
        body: schemas.CreateWebsite,
        response: { 201: schemas.Website, ...problems(400, 403, 409) },
      },
    },
    async (req, reply) => reply.status(201).send(await service.createWebsite(deps, actorOf(req), req.body)),
  );
  app.get(
    '/websites',
    {
      schema: {
        tags,
        summary: 'List websites',
        querystring: Type.Object(ListQuery),
        response: { 200: PageOf(schemas.Website), ...problems(400) },
      },
    },
    async (req) => service.listWebsites(deps, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );
  app.get(
    '/websites/:id',
    {
      schema: {
        tags,
        summary: 'Read a website',
        params: IdParams,
        response: { 200: schemas.Website, ...problems(404) },
      },
    },
    async (req) => service.getWebsite(deps, req.params.id),
  );
  app.patch(
    '/websites/:id',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Edit a website and its settings',
        params: IdParams,
        body: schemas.UpdateWebsite,
        response: { 200: schemas.Website, ...problems(400, 403, 404, 409) },
      },
    },
    async (req) => service.updateWebsite(deps, actorOf(req), req.params.id, req.body),
  );

  app.post(
    '/websites/:id/web-roles',
    {
      schema: {
        tags,
        summary: 'Create a web role',
        params: IdParams,
        body: schemas.CreateWebRole,
        response: { 201: schemas.WebRole, ...problems(400, 404, 409) },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await service.createWebRole(deps, actorOf(req), req.params.id, req.body)),
  );
  app.get(
    '/websites/:id/web-roles',
    {
      schema: {
        tags,
        summary: "List a website's web roles",
        params: IdParams,
        querystring: Type.Object(ListQuery),
        response: { 200: PageOf(schemas.WebRole), ...problems(400, 404) },
      },
    },
    async (req) =>
      service.listWebRoles(deps, req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );
  app.patch(
    '/web-roles/:id',
    {
      schema: {
        tags,
        summary: 'Edit a web role',
        params: IdParams,
        body: schemas.UpdateWebRole,
        response: { 200: schemas.WebRole, ...problems(400, 404, 409) },
      },
    },
    async (req) => service.updateWebRole(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/web-roles/:id',
    {
      schema: {
        tags,
        summary: 'Delete a web role (removed from every contact)',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(404, 409) },
      },
    },
    async (req, reply) => {
      await service.deleteWebRole(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
