import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf, onlyAdministrators } from '../../http/auth.ts';
import { Email, Id, IdParams, Instant, ListQuery, Name, PageOf, problems } from '../../http/schemas.ts';
import * as admin from './user.admin.ts';
import { inviteUser } from './user.credentials.ts';
import { createUser } from './user.service.ts';

const tags = ['Users and API keys'];
const Role = Type.Union([Type.Literal('admin'), Type.Literal('operator')]);
const User = Type.Object({
  id: Id,
  name: Type.String(),
  email: Type.String(),
  role: Role,
  disabled: Type.Boolean(),
  createdAt: Instant,
  updatedAt: Instant,
});
const ApiKey = Type.Object({
  id: Id,
  userId: Id,
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  lastUsedAt: Type.Union([Instant, Type.Null()]),
  createdAt: Instant,
});
const NewApiKey = Type.Intersect([
  ApiKey,
  Type.Object({ secret: Type.String({ description: 'The key itself: shown here once, never again' }) }),
]);

/**
 * Back-office users and API keys (SPEC 9). Administrators only: an operator's key gets 403.
 */
export async function userRoutes(app: ApiApp, deps: Deps): Promise<void> {
  const onlyAdmins = onlyAdministrators('manage users and API keys');
  app.get(
    '/users',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'List back-office users, or those whose name or email contains `search`',
        querystring: Type.Object({ ...ListQuery, search: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 200: PageOf(User), ...problems(400, 403) },
      },
    },
    async (req) =>
      admin.listUsers(deps, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
        search: req.query.search,
      }),
  );
  app.post(
    '/users',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Create a back-office user',
        description:
          'With `sendInvitation` (the default), the user is mailed a link to choose a password, valid a week.',
        body: Type.Object(
          { name: Name(), email: Email, role: Role, sendInvitation: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 201: User, ...problems(400, 403, 409) },
      },
    },
    async (req, reply) => {
      const { sendInvitation, ...input } = req.body;
      const user = await createUser(deps, actorOf(req), input);
      if (sendInvitation !== false) await inviteUser(deps, actorOf(req), user.id);
      return reply.status(201).send(user);
    },
  );
  app.post(
    '/users/:id/invite',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Mail the user a new link to choose a password (valid a week)',
        params: IdParams,
        response: { 202: Type.Null(), ...problems(403, 404, 409) },
      },
    },
    async (req, reply) => {
      await inviteUser(deps, actorOf(req), req.params.id);
      return reply.status(202).send(null);
    },
  );
  app.patch(
    '/users/:id',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Rename a user, change the role, disable or enable',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name()),
            role: Type.Optional(Role),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: User, ...problems(400, 403, 404, 409) },
      },
    },
    async (req) => admin.updateUser(deps, actorOf(req), req.params.id, req.body),
  );
  app.get(
    '/api-keys',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'List API keys (never their secrets)',
        querystring: Type.Object({ ...ListQuery, userId: Type.Optional(Id) }),
        response: { 200: PageOf(ApiKey), ...problems(400, 403) },
      },
    },
    async (req) =>
      admin.listApiKeys(deps, {
        userId: req.query.userId,
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      }),
  );
  app.post(
    '/api-keys',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Create an API key (its secret is in this answer only)',
        body: Type.Object({ name: Name(), userId: Type.Optional(Id) }, { additionalProperties: false }),
        response: { 201: NewApiKey, ...problems(400, 403) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(await admin.issueApiKey(deps, actorOf(req), req.body));
    },
  );
  app.delete(
    '/api-keys/:id',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Delete (revoke) an API key',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(403, 404) },
      },
    },
    async (req, reply) => {
      await admin.revokeApiKey(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
