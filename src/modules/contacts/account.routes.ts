import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf } from '../../http/auth.ts';
import { IdParams, ListQuery, PageOf, problems } from '../../http/schemas.ts';
import * as service from './account.service.ts';
import * as schemas from './contact.schemas.ts';

const tags = ['Accounts'];

export async function accountRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.post(
    '/accounts',
    {
      schema: {
        tags,
        summary: 'Create an account',
        body: schemas.CreateAccount,
        response: { 201: schemas.Account, ...problems(400) },
      },
    },
    async (req, reply) => reply.status(201).send(await service.createAccount(deps, actorOf(req), req.body)),
  );
  app.get(
    '/accounts',
    {
      schema: {
        tags,
        summary: 'List accounts',
        querystring: Type.Object({ ...ListQuery, search: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 200: PageOf(schemas.Account), ...problems(400) },
      },
    },
    async (req) =>
      service.listAccounts(deps, {
        search: req.query.search,
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      }),
  );
  app.get(
    '/accounts/:id',
    {
      schema: {
        tags,
        summary: 'Read an account',
        params: IdParams,
        response: { 200: schemas.Account, ...problems(404) },
      },
    },
    async (req) => service.getAccount(deps, req.params.id),
  );
  app.patch(
    '/accounts/:id',
    {
      schema: {
        tags,
        summary: 'Rename an account',
        params: IdParams,
        body: schemas.UpdateAccount,
        response: { 200: schemas.Account, ...problems(400, 404) },
      },
    },
    async (req) => service.updateAccount(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/accounts/:id',
    {
      schema: {
        tags,
        summary: 'Delete an account nobody refers to',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(404, 409) },
      },
    },
    async (req, reply) => {
      await service.deleteAccount(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
