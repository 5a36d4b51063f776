import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf, onlyAdministrators } from '../../http/auth.ts';
import {
  Id,
  IdParams,
  Instant,
  Line,
  ListQuery,
  Name,
  Nullable,
  PageOf,
  problems,
} from '../../http/schemas.ts';
import { WORKFLOW_TRIGGER_EVENT_TYPES } from '../events/event.ts';
import { previewInvitationEmail } from '../invitations/invitation.ts';
import * as service from './workflow.service.ts';
import { Steps, StepsOut } from './workflow.steps.ts';

const Workflow = Type.Object({
  id: Id,
  key: Nullable(Type.String({ description: 'Built-in workflows only (send-invitation)' })),
  name: Type.String(),
  active: Type.Boolean(),
  version: Type.Integer(),
  steps: StepsOut,
  websiteId: Nullable(Id),
  eventTypes: Type.Array(Type.String()),
  fromAddress: Nullable(Type.String()),
  templateId: Nullable(Id),
  createdAt: Instant,
  updatedAt: Instant,
});

const WorkflowVersion = Type.Object({
  workflowId: Id,
  version: Type.Integer(),
  name: Type.String(),
  steps: StepsOut,
  createdAt: Instant,
});

const EventTypes = Type.Array(
  Type.String({ maxLength: 60, pattern: '^[a-z_.]+$', description: WORKFLOW_TRIGGER_EVENT_TYPES.join(', ') }),
  { maxItems: 10 },
);

const TemplateParts = {
  subject: Line(1000, 1),
  html: Type.String({ minLength: 1, maxLength: 200_000 }),
  text: Type.String({ minLength: 1, maxLength: 100_000 }),
};

const EmailTemplate = Type.Object({
  id: Id,
  key: Nullable(Type.String()),
  name: Type.String(),
  subject: Type.String(),
  html: Type.String(),
  text: Type.String(),
  createdAt: Instant,
  updatedAt: Instant,
});

/** A From header value: an address, optionally with a display name, on one line. */
const FromAddress = Type.String({
  maxLength: 320,
  pattern: '^[^\\u0000-\\u001F\\u007F]*@[^\\u0000-\\u001F\\u007F]*$',
});

export async function workflowRoutes(app: ApiApp, deps: Deps): Promise<void> {
  const tags = ['Workflows'];
  app.post(
    '/workflows',
    {
      schema: {
        tags,
        summary: 'Create a workflow: a named list of steps, at version 1',
        body: Type.Object(
          {
            name: Name(),
            websiteId: Type.Optional(Nullable(Id)),
            steps: Steps,
            eventTypes: Type.Optional(EventTypes),
            active: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: Workflow, ...problems(400) },
      },
    },
    async (req, reply) => reply.status(201).send(await service.createWorkflow(deps, actorOf(req), req.body)),
  );
  app.get(
    '/workflows',
    {
      schema: {
        tags,
        summary: 'Workflows, the built-in Send Invitation among them',
        querystring: Type.Object(ListQuery),
        response: { 200: PageOf(Workflow), ...problems(400) },
      },
    },
    async (req) => service.listWorkflows(deps, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );
  app.get(
    '/workflows/:id',
    {
      schema: {
        tags,
        summary: 'Read a workflow',
        params: IdParams,
        response: { 200: Workflow, ...problems(404) },
      },
    },
    async (req) => service.getWorkflow(deps, req.params.id),
  );
  app.patch(
    '/workflows/:id',
    {
      schema: {
        tags,
        summary:
          'Edit a workflow (a new version); the Send Invitation From and template only while it is deactivated',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name()),
            websiteId: Type.Optional(Nullable(Id)),
            steps: Type.Optional(Steps),
            eventTypes: Type.Optional(EventTypes),
            fromAddress: Type.Optional(Nullable(FromAddress)),
            templateId: Type.Optional(Id),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Workflow, ...problems(400, 404, 409) },
      },
    },
    async (req) => service.updateWorkflow(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/workflows/:id',
    {
      schema: {
        tags,
        summary: 'Delete a workflow that never ran and that no invitation names',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(404, 409) },
      },
    },
    async (req, reply) => {
      await service.deleteWorkflow(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/workflows/:id/versions',
    {
      schema: {
        tags,
        summary: "A workflow's versions, newest first",
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(WorkflowVersion) }), ...problems(404) },
      },
    },
    async (req) => ({ items: await service.listVersions(deps, req.params.id) }),
  );
  app.get(
    '/workflows/:id/signing-secret',
    {
      schema: {
        tags,
        summary: "The secret that signs the workflow's call-webhook requests (whsec_…); audited",
        params: IdParams,
        response: { 200: Type.Object({ secret: Type.String() }), ...problems(404) },
      },
    },
    async (req) => service.revealSigningSecret(deps, actorOf(req), req.params.id),
  );
  for (const [action, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    app.post(
      `/workflows/:id/${action}`,
      {
        schema: {
          tags,
          summary: `${action === 'activate' ? 'Activate' : 'Deactivate'} a workflow`,
          params: IdParams,
          response: { 200: Workflow, ...problems(404) },
        },
      },
      async (req) => service.setWorkflowActive(deps, actorOf(req), req.params.id, active),
    );
  }

  const templateTags = ['Email templates'];
  app.get(
    '/email-templates',
    {
      schema: {
        tags: templateTags,
        summary: 'Email templates',
        querystring: Type.Object(ListQuery),
        response: { 200: PageOf(EmailTemplate), ...problems(400) },
      },
    },
    async (req) => service.listTemplates(deps, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );
  app.post(
    '/email-templates',
    {
      schema: {
        tags: templateTags,
        summary: 'Create an email template (Liquid), for send-email steps',
        body: Type.Object({ name: Name(), ...TemplateParts }, { additionalProperties: false }),
        response: { 201: EmailTemplate, ...problems(400) },
      },
    },
    async (req, reply) => reply.status(201).send(await service.createTemplate(deps, actorOf(req), req.body)),
  );
  app.get(
    '/email-templates/:id',
    {
      schema: {
        tags: templateTags,
        summary: 'Read an email template',
        params: IdParams,
        response: { 200: EmailTemplate, ...problems(404) },
      },
    },
    async (req) => service.getTemplate(deps, req.params.id),
  );
  app.put(
    '/email-templates/:id',
    {
      preHandler: onlyAdministrators('edit email templates'),
      schema: {
        tags: templateTags,
        summary: 'Replace an email template (Liquid); only while no active workflow uses it',
        params: IdParams,
        body: Type.Object({ name: Name(), ...TemplateParts }, { additionalProperties: false }),
        response: { 200: EmailTemplate, ...problems(400, 403, 404, 409) },
      },
    },
    async (req) => service.replaceTemplate(deps, actorOf(req), req.params.id, req.body),
  );
  app.post(
    '/email-templates/:id/preview',
    {
      schema: {
        tags: templateTags,
        summary:
          'Render the template, or an unsaved draft of it, against a real invitation (code masked) or sample data',
        description:
          'Without invitationId, sample data stands in (on websiteId, else the first website). unknownVariables lists what the template reads that an invitation email does not have (it renders empty).',
        params: IdParams,
        body: Type.Object(
          {
            invitationId: Type.Optional(Id),
            contactId: Type.Optional(Id),
            websiteId: Type.Optional(Id),
            draft: Type.Optional(
              Type.Object(TemplateParts, {
                additionalProperties: false,
                description: 'Render these parts instead of the saved ones (the live preview of an editor)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            to: Nullable(Type.String()),
            subject: Type.String(),
            html: Type.String(),
            text: Type.String(),
            sample: Type.Boolean({ description: 'Sample data stood in for an invitation' }),
            unknownVariables: Type.Array(Type.String(), {
              description: 'Variables the template reads that an invitation email does not have',
            }),
          }),
          ...problems(400, 404),
        },
      },
    },
    async (req) => previewInvitationEmail(deps, req.params.id, req.body),
  );
}
