import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf } from '../../http/auth.ts';
import {
  Id,
  IdParams,
  Instant,
  ListQuery,
  NO_CONTROL_CHARACTERS,
  Nullable,
  PageOf,
  problems,
  Text,
} from '../../http/schemas.ts';
import { SUBSCRIBABLE_EVENT_TYPES } from './event.types.ts';
import * as service from './webhook.service.ts';

const tags = ['Webhook endpoints'];

const EventTypes = Type.Array(
  Type.String({
    minLength: 1,
    maxLength: 60,
    pattern: '^[a-z_.*]+$',
    description: `* (every event) or one of ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}`,
  }),
  { minItems: 1, maxItems: 50 },
);
const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  pattern: `^[^${NO_CONTROL_CHARACTERS} ]*$`,
  description: 'An https URL (http only with ADMIT_WEBHOOK_ALLOW_PRIVATE)',
});

const Endpoint = Type.Object({
  id: Id,
  url: Type.String(),
  description: Nullable(Type.String()),
  eventTypes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  failingSince: Nullable(Instant),
  secretRotatedUntil: Nullable(Instant),
  createdAt: Instant,
  updatedAt: Instant,
});
const EndpointWithSecret = Type.Composite([
  Endpoint,
  Type.Object({ secret: Type.String({ description: 'whsec_…: shown in this answer only' }) }),
]);

const Attempt = Type.Object({
  id: Id,
  statusCode: Nullable(Type.Integer()),
  durationMs: Type.Integer(),
  response: Nullable(Type.String({ description: 'The first KB of the answer' })),
  error: Nullable(Type.String()),
  at: Instant,
});
const Delivery = Type.Object({
  id: Id,
  endpointId: Id,
  eventId: Id,
  type: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Instant),
  lastStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Instant,
  updatedAt: Instant,
});
const DeliveryWithAttempts = Type.Composite([Delivery, Type.Object({ attemptLog: Type.Array(Attempt) })]);

const present = (e: service.WebhookEndpoint) => ({ ...e, secretRotatedUntil: e.previousSecretUntil });
const presentDelivery = <D extends service.WebhookDelivery>(d: D) => ({ ...d, type: d.eventType });

export async function webhookRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.post(
    '/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'Create a webhook endpoint; its signing secret is in this answer only',
        body: Type.Object(
          {
            url: Url,
            eventTypes: EventTypes,
            enabled: Type.Optional(Type.Boolean()),
            description: Type.Optional(Nullable(Text(500))),
          },
          { additionalProperties: false },
        ),
        response: { 201: EndpointWithSecret, ...problems(400) },
      },
    },
    async (req, reply) => {
      const e = await service.createEndpoint(deps, actorOf(req), req.body);
      return reply.status(201).send({ ...present(e), secret: e.secret });
    },
  );
  app.get(
    '/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'Webhook endpoints (never their secrets)',
        querystring: Type.Object(ListQuery),
        response: { 200: PageOf(Endpoint), ...problems(400) },
      },
    },
    async (req) => {
      const page = await service.listEndpoints(deps, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      });
      return { ...page, items: page.items.map(present) };
    },
  );
  app.get(
    '/webhook-endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Read a webhook endpoint',
        params: IdParams,
        response: { 200: Endpoint, ...problems(404) },
      },
    },
    async (req) => present(await service.getEndpoint(deps, req.params.id)),
  );
  app.patch(
    '/webhook-endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Edit an endpoint; enabling it again clears why it was disabled',
        params: IdParams,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            eventTypes: Type.Optional(EventTypes),
            enabled: Type.Optional(Type.Boolean()),
            description: Type.Optional(Nullable(Text(500))),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Endpoint, ...problems(400, 404) },
      },
    },
    async (req) => present(await service.updateEndpoint(deps, actorOf(req), req.params.id, req.body)),
  );
  app.delete(
    '/webhook-endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Delete an endpoint and its deliveries',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(404) },
      },
    },
    async (req, reply) => {
      await service.deleteEndpoint(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  app.post(
    '/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'A new signing secret (in this answer only); the old one signs too during the grace period',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            {
              gracePeriodSeconds: Type.Optional(
                Type.Integer({
                  minimum: 0,
                  maximum: 7 * 24 * 3600,
                  description: 'Default one day; 0 stops the old secret now',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: EndpointWithSecret, ...problems(400, 404) },
      },
    },
    async (req) => {
      const e = await service.rotateEndpointSecret(
        deps,
        actorOf(req),
        req.params.id,
        req.body?.gracePeriodSeconds,
      );
      return { ...present(e), secret: e.secret };
    },
  );
  app.post(
    '/webhook-endpoints/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a webhook_endpoint.test event to this endpoint',
        params: IdParams,
        response: { 202: Delivery, ...problems(404) },
      },
    },
    async (req, reply) =>
      reply.status(202).send(presentDelivery(await service.sendTestEvent(deps, actorOf(req), req.params.id))),
  );
  app.get(
    '/webhook-endpoints/:id/deliveries',
    {
      schema: {
        tags,
        summary: "An endpoint's deliveries, newest first, each with every attempt",
        params: IdParams,
        querystring: Type.Object({
          ...ListQuery,
          status: Type.Optional(
            Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
          ),
        }),
        response: { 200: PageOf(DeliveryWithAttempts), ...problems(400, 404) },
      },
    },
    async (req) => {
      const page = await service.listDeliveries(deps, req.params.id, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
        status: req.query.status,
      });
      return { ...page, items: page.items.map(presentDelivery) };
    },
  );
  app.post(
    '/webhook-deliveries/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send one delivery again now (same webhook-id)',
        params: IdParams,
        response: { 202: Delivery, ...problems(404, 409) },
      },
    },
    async (req, reply) =>
      reply
        .status(202)
        .send(presentDelivery(await service.replayDelivery(deps, actorOf(req), req.params.id))),
  );
}
