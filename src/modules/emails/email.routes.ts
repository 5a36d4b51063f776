import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf } from '../../http/auth.ts';
import { Id, IdParams, Instant, ListQuery, Nullable, PageOf, problems } from '../../http/schemas.ts';
import * as service from './email.service.ts';
import * as mailState from './mail-state.service.ts';

const tags = ['Emails'];
const Status = Type.Union([
  Type.Literal('pending'),
  Type.Literal('sending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
]);

const EmailSummary = Type.Object({
  id: Id,
  kind: Type.String({
    description: 'What the email is: invitation, confirm-email, reset-password, confirm-registration',
  }),
  invitationId: Nullable(Id),
  contactId: Nullable(Id),
  to: Nullable(Type.String()),
  from: Type.String(),
  subject: Nullable(Type.String()),
  status: Status,
  attempts: Type.Integer(),
  lastError: Nullable(Type.String({ description: "The server's reply, or NO_PRIMARY_EMAIL" })),
  messageId: Type.String(),
  sentAt: Nullable(Instant),
  createdAt: Instant,
  updatedAt: Instant,
});

const MailStatus = Type.Object({
  transport: Type.Union([Type.Literal('smtp'), Type.Literal('outbox')]),
  state: Type.Union(
    [Type.Literal('sending'), Type.Literal('paused'), Type.Literal('unreachable'), Type.Literal('deferring')],
    {
      description:
        'paused: the credentials were refused (POST /mail/resume after fixing them); unreachable or deferring: the mail server is in trouble and delivery resumes by itself',
    },
  ),
  paused: Type.Boolean({ description: 'True whenever nothing goes out now' }),
  reason: Nullable(Type.String()),
  since: Nullable(Instant),
  lastReply: Nullable(Type.String({ description: "The mail server's last reply or connection error" })),
  nextAttemptAt: Nullable(Instant),
  waiting: Type.Integer({ minimum: 0, description: 'Emails not yet delivered' }),
});

const EmailWithBodies = Type.Intersect([
  EmailSummary,
  Type.Object({
    html: Nullable(Type.String({ description: 'As sent, with the invitation code masked' })),
    text: Nullable(Type.String({ description: 'As sent, with the invitation code masked' })),
  }),
]);

export async function emailRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.get(
    '/emails/:id',
    {
      schema: {
        tags,
        summary: 'One email as it was sent (its stored copy: the invitation code masked)',
        params: IdParams,
        response: { 200: EmailWithBodies, ...problems(404) },
      },
    },
    async (req) => service.getEmail(deps, req.params.id),
  );
  app.get(
    '/emails',
    {
      schema: {
        tags,
        summary: 'Email activities with their delivery status (bodies are not listed)',
        querystring: Type.Object({
          ...ListQuery,
          invitationId: Type.Optional(Id),
          contactId: Type.Optional(Id),
          status: Type.Optional(Status),
        }),
        response: { 200: PageOf(EmailSummary), ...problems(400) },
      },
    },
    async (req) => service.listEmails(deps, { ...req.query, limit: req.query.limit ?? 50 }),
  );
  app.post(
    '/emails/:id/retry',
    {
      schema: {
        tags,
        summary: 'Send a failed email again',
        params: IdParams,
        response: { 202: EmailSummary, ...problems(404, 409) },
      },
    },
    async (req, reply) => reply.status(202).send(await service.retryEmail(deps, actorOf(req), req.params.id)),
  );
  app.get(
    '/mail/status',
    {
      schema: {
        tags,
        summary: 'The mail transport, and whether sending is paused and why',
        response: { 200: MailStatus },
      },
    },
    async () => mailState.mailStatus(deps),
  );
  app.post(
    '/mail/resume',
    {
      schema: {
        tags,
        summary: 'Resume sending after fixing the mail settings',
        response: { 200: MailStatus },
      },
    },
    async (req) => mailState.resumeSending(deps, actorOf(req)),
  );
}
