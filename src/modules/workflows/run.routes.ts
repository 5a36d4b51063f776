import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf } from '../../http/auth.ts';
import { Id, IdParams, Instant, ListQuery, Nullable, PageOf, problems } from '../../http/schemas.ts';
import * as service from './run.service.ts';

const tags = ['Workflow runs'];

const Status = Type.Union(
  (['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const).map((s) => Type.Literal(s)),
);

const Run = Type.Object({
  id: Id,
  workflowId: Id,
  workflowVersion: Type.Integer({ description: 'The version the run follows, whatever later edits did' }),
  trigger: Type.Union([Type.Literal('redemption'), Type.Literal('manual'), Type.Literal('event')]),
  contactId: Id,
  invitationId: Nullable(Id),
  websiteId: Nullable(Id),
  eventId: Nullable(Id),
  status: Status,
  nextStep: Type.Integer({ description: 'The index of the first step not done' }),
  attempts: Type.Integer({ description: 'Failed attempts of the step at nextStep' }),
  waitUntil: Nullable(Instant),
  lastError: Nullable(Type.String()),
  createdBy: Nullable(Id),
  createdAt: Instant,
  updatedAt: Instant,
  finishedAt: Nullable(Instant),
});

const RunWithLog = Type.Composite([
  Run,
  Type.Object({
    workflowName: Type.String(),
    log: Type.Array(
      Type.Object({
        id: Id,
        stepIndex: Nullable(Type.Integer()),
        stepType: Nullable(Type.String()),
        outcome: Type.String({ description: 'succeeded, waiting, retrying, failed, cancelled or retried' }),
        message: Type.String(),
        at: Instant,
      }),
    ),
  }),
]);

export async function runRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.get(
    '/workflow-runs',
    {
      schema: {
        tags,
        summary: 'Workflow runs, newest first; of a workflow, a contact or an invitation',
        querystring: Type.Object({
          ...ListQuery,
          workflowId: Type.Optional(Id),
          contactId: Type.Optional(Id),
          invitationId: Type.Optional(Id),
          status: Type.Optional(Status),
        }),
        response: { 200: PageOf(Run), ...problems(400) },
      },
    },
    async (req) => service.listRuns(deps, { ...req.query, limit: req.query.limit ?? 50 }),
  );
  app.post(
    '/workflow-runs',
    {
      schema: {
        tags,
        summary: '"Run workflow" on contacts: a run each',
        body: Type.Object(
          {
            workflowId: Id,
            contactIds: Type.Array(Id, { minItems: 1, maxItems: service.MAX_MANUAL_CONTACTS }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ items: Type.Array(Run) }), ...problems(400, 409) },
      },
    },
    async (req, reply) =>
      reply.status(201).send({ items: await service.startManualRuns(deps, actorOf(req), req.body) }),
  );
  app.get(
    '/workflow-runs/:id',
    {
      schema: {
        tags,
        summary: 'A run with its log',
        params: IdParams,
        response: { 200: RunWithLog, ...problems(404) },
      },
    },
    async (req) => service.getRun(deps, req.params.id),
  );
  app.post(
    '/workflow-runs/:id/retry',
    {
      schema: {
        tags,
        summary: 'Run a failed run again from the step that failed',
        params: IdParams,
        response: { 200: RunWithLog, ...problems(404, 409) },
      },
    },
    async (req) => service.retryRun(deps, actorOf(req), req.params.id),
  );
  app.post(
    '/workflow-runs/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a queued, running or waiting run',
        params: IdParams,
        response: { 200: RunWithLog, ...problems(404, 409) },
      },
    },
    async (req) => service.cancelRun(deps, actorOf(req), req.params.id),
  );
}
