import { type Static, Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import type { FieldError } from '../../errors.ts';
import { Name, NO_CONTROL_CHARACTERS } from '../../http/schemas.ts';
import { accountExists } from '../contacts/contact.ts';
import { urlProblem } from '../events/event.ts';
import { findWebRolesByIds } from '../websites/website.ts';
import { findTemplate } from './workflow.repository.ts';

/**
 * The steps of a workflow (SPEC 7), their JSON shapes and the checks made when a workflow is saved.
 * A step is validated whole on save, so a run never meets a malformed one; what can change after
 * the save (a template or account deleted) fails the step at run time, with the reason in the log.
 */
const Id = Type.String({ format: 'uuid' });
const Url = Type.String({ minLength: 1, maxLength: 2000, pattern: `^[^${NO_CONTROL_CHARACTERS} ]*$` });

const BRANCHES = [
  Type.Object(
    { type: Type.Literal('send-email'), templateId: Id },
    { additionalProperties: false, description: "An email from a template to the contact's primary email" },
  ),
  Type.Object(
    {
      type: Type.Literal('set-contact-fields'),
      fields: Type.Object(
        {
          firstName: Type.Optional(Name(100)),
          lastName: Type.Optional(Name(100)),
          email2: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
          email3: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
          loginEnabled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
    },
    { additionalProperties: false },
  ),
  ...(['add-web-roles', 'remove-web-roles'] as const).map((type) =>
    Type.Object(
      {
        type: Type.Literal(type),
        webRoleIds: Type.Array(Id, { minItems: 1, maxItems: 50, uniqueItems: true }),
      },
      { additionalProperties: false, description: "Web roles of the workflow's website" },
    ),
  ),
  Type.Object({ type: Type.Literal('set-parent-account'), accountId: Id }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('call-webhook'),
      url: Url,
      timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 30_000, default: 10_000 })),
    },
    {
      additionalProperties: false,
      description: "An HTTPS POST of JSON signed with the workflow's signing secret (Standard Webhooks)",
    },
  ),
  Type.Object(
    {
      type: Type.Literal('wait'),
      duration: Type.String({
        maxLength: 40,
        pattern: `^[^${NO_CONTROL_CHARACTERS}]*$`,
        description: 'ISO 8601, e.g. P3D, PT12H, PT30M',
      }),
    },
    { additionalProperties: false },
  ),
] as const;

const StepUnion = Type.Union([...BRANCHES]);
export type Step = Static<typeof StepUnion>;

/**
 * A step as a request carries it: told apart by its `type` (AJV's discriminator), so a bad step
 * gets the messages of its own type, not of every type it is not.
 */
const StepInRequest = Type.Unsafe<Step>({
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: BRANCHES,
});
export const Steps = Type.Array(StepInRequest, { maxItems: 50 });
/** Steps as answers carry them (the serializer reads plain unions). */
export const StepsOut = Type.Array(StepUnion);

const MAX_WAIT_MS = 366 * 24 * 3600 * 1000;

/** Milliseconds of an ISO 8601 duration (PnW, or PnDTnHnMnS; no years or months), or null. */
export function durationMs(iso: string): number | null {
  const week = /^P(\d+)W$/.exec(iso);
  if (week) return Number(week[1]) * 7 * 86_400_000;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) return null;
  const [, d, h, min, s] = m.map((v) => Number(v ?? 0));
  return (((d as number) * 24 + (h as number)) * 60 + (min as number)) * 60_000 + (s as number) * 1000;
}

/**
 * The problems of a workflow's steps, each with its path (`/steps/2/templateId`) and a message that
 * names the step: templates, roles and accounts exist; web roles belong to the website the workflow
 * is limited to (a workflow with role steps must be limited to one); URLs may be called; waits are
 * positive and at most a year.
 */
export async function stepProblems(
  conn: Conn,
  deps: Pick<Deps, 'config'>,
  steps: readonly Step[],
  websiteId: string | null,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  for (const [i, step] of steps.entries()) {
    const at = `/steps/${i}`;
    const named = `Step ${i + 1} (${step.type})`;
    if (step.type === 'send-email') {
      if (!(await findTemplate(conn, step.templateId)))
        errors.push({
          path: `${at}/templateId`,
          message: `${named}: no email template with id ${step.templateId}.`,
        });
    } else if (step.type === 'add-web-roles' || step.type === 'remove-web-roles') {
      const roles = new Map((await findWebRolesByIds(conn, step.webRoleIds)).map((r) => [r.id, r]));
      if (websiteId === null)
        errors.push({
          path: '/websiteId',
          message: `${named}: a workflow that changes web roles must be limited to their website.`,
        });
      for (const [k, id] of step.webRoleIds.entries()) {
        const role = roles.get(id);
        if (!role)
          errors.push({ path: `${at}/webRoleIds/${k}`, message: `${named}: no web role with id ${id}.` });
        else if (websiteId !== null && role.websiteId !== websiteId)
          errors.push({
            path: `${at}/webRoleIds/${k}`,
            message: `${named}: the web role "${role.name}" belongs to another website than the workflow's.`,
          });
      }
    } else if (step.type === 'set-parent-account') {
      if (!(await accountExists(conn, step.accountId)))
        errors.push({ path: `${at}/accountId`, message: `${named}: no account with id ${step.accountId}.` });
    } else if (step.type === 'call-webhook') {
      const problem = urlProblem(step.url, deps.config.webhookAllowPrivate);
      if (problem) errors.push({ path: `${at}/url`, message: `${named}: the URL ${problem}.` });
    } else if (step.type === 'wait') {
      const ms = durationMs(step.duration);
      if (ms === null || ms <= 0 || ms > MAX_WAIT_MS)
        errors.push({
          path: `${at}/duration`,
          message: `${named}: "${step.duration}" is not a duration from PT1S to P366D in ISO 8601 (e.g. P3D, PT12H).`,
        });
    }
  }
  return errors;
}
