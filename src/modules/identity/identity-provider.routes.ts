import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf, onlyAdministrators } from '../../http/auth.ts';
import { IdParams, problems } from '../../http/schemas.ts';
import * as schemas from './identity-provider.schemas.ts';
import * as service from './identity-provider.service.ts';

const tags = ['Identity providers'];

/**
 * The identity providers of a website's portal. Anyone with API access reads them (never the
 * secret); only administrators add, edit or remove them, since they decide who may sign in.
 */
export async function identityProviderRoutes(app: ApiApp, deps: Deps): Promise<void> {
  const onlyAdmins = onlyAdministrators('manage identity providers');
  app.post(
    '/websites/:id/identity-providers',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: "Add an OpenID Connect provider to a website's portal",
        description:
          'The client secret is sealed before it is stored and never returned. Register `redirectUri` of the answer with the provider.',
        params: IdParams,
        body: schemas.CreateIdentityProvider,
        response: { 201: schemas.IdentityProvider, ...problems(400, 403, 404, 409) },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await service.createIdentityProvider(deps, actorOf(req), req.params.id, req.body)),
  );
  app.get(
    '/websites/:id/identity-providers',
    {
      schema: {
        tags,
        summary: 'List the identity providers of a website',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(schemas.IdentityProvider) }), ...problems(404) },
      },
    },
    async (req) => ({ items: await service.listIdentityProviders(deps, req.params.id) }),
  );
  app.get(
    '/identity-providers/:id',
    {
      schema: {
        tags,
        summary: 'Read an identity provider',
        params: IdParams,
        response: { 200: schemas.IdentityProvider, ...problems(404) },
      },
    },
    async (req) => service.getIdentityProvider(deps, req.params.id),
  );
  app.patch(
    '/identity-providers/:id',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Edit an identity provider',
        description: 'A new `clientSecret` replaces the stored one; leave it out to keep it.',
        params: IdParams,
        body: schemas.UpdateIdentityProvider,
        response: { 200: schemas.IdentityProvider, ...problems(400, 403, 404, 409) },
      },
    },
    async (req) => service.updateIdentityProvider(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/identity-providers/:id',
    {
      preHandler: onlyAdmins,
      schema: {
        tags,
        summary: 'Remove an identity provider',
        description: 'Refused (409) while contacts sign in with it: disable it instead.',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(403, 404, 409) },
      },
    },
    async (req, reply) => {
      await service.deleteIdentityProvider(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
