import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { IdParams, PageOf, problems } from '../../http/schemas.ts';
import * as schemas from './operation.schemas.ts';
import * as service from './operation.service.ts';

const tags = ['Operations'];

/** True when the request asks to be answered at once with an operation (`Prefer: respond-async`). */
export const prefersAsync = (req: FastifyRequest): boolean =>
  String(req.headers.prefer ?? '')
    .split(',')
    .some((p) => p.split(';')[0]?.trim().toLowerCase() === 'respond-async');

/** Answers 202 with the operation and its Location (and Preference-Applied when it was asked for). */
export const accepted = (reply: FastifyReply, op: service.OperationView) => {
  if (prefersAsync(reply.request)) reply.header('preference-applied', 'respond-async');
  return reply.status(202).header('location', `/api/v1/operations/${op.id}`).send(op);
};

export async function operationRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.get(
    '/operations',
    {
      schema: {
        tags,
        summary: 'List bulk operations, newest first',
        querystring: schemas.ListOperationsQuery,
        response: { 200: PageOf(schemas.Operation), ...problems(400) },
      },
    },
    async (req) => service.listOperations(deps, { ...req.query, limit: req.query.limit ?? 50 }),
  );
  app.get(
    '/operations/:id',
    {
      schema: {
        tags,
        summary: 'A bulk operation: progress, counts, the first failures, and whether it is done',
        params: IdParams,
        response: { 200: schemas.Operation, ...problems(404) },
      },
    },
    async (req) => service.getOperation(deps, req.params.id),
  );
  app.get(
    '/operations/:id/failures',
    {
      schema: {
        tags,
        summary: "A bulk operation's failures, in input order",
        params: IdParams,
        querystring: schemas.FailuresQuery,
        response: { 200: schemas.FailuresPage, ...problems(400, 404) },
      },
    },
    async (req) =>
      service.listFailures(deps, req.params.id, { after: req.query.after, limit: req.query.limit ?? 50 }),
  );
}
