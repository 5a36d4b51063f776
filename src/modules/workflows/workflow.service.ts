import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { inUseOr } from '../../db/dialect.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, invalid, notFound, throwIfInvalid } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { compileTemplate } from '../../mail/liquid.ts';
import { recordAudit, secretOf, signingKey, WORKFLOW_TRIGGER_EVENT_TYPES } from '../events/event.ts';
import { websiteExists } from '../websites/website.ts';
import type { EmailTemplate, Workflow, WorkflowVersion } from './workflow.repository.ts';
import * as repo from './workflow.repository.ts';
import { type Step, stepProblems } from './workflow.steps.ts';

export type { EmailTemplate, Workflow, WorkflowVersion };

/**
 * Workflows and their email templates (SPEC 4 and 7). The built-in Send Invitation workflow
 * (`send-invitation`) sends every invitation. As in Power Pages, its From and template can be
 * edited only while it is deactivated, and sends are refused while it is.
 */
export const SEND_INVITATION = 'send-invitation';

/**
 * The workflow an invitation of `websiteId` may run on its redeeming contact: one that exists, is
 * not built in, and is limited to no website or to this one (400 at `path` otherwise).
 */
export async function requireRedemptionWorkflow(
  conn: Conn,
  id: string,
  websiteId: string,
  path: string,
): Promise<void> {
  const w = await repo.findWorkflow(conn, id);
  if (!w) throw invalid(path, `No workflow with id ${id}.`);
  if (w.key !== null)
    throw invalid(path, `The built-in workflow "${w.name}" cannot run on a redeeming contact.`);
  if (w.websiteId !== null && w.websiteId !== websiteId)
    throw invalid(path, `The workflow "${w.name}" is limited to another website than the invitation's.`);
}

/** The send workflow, which must be active (409 WORKFLOW_INACTIVE otherwise). */
export async function activeSendWorkflow(conn: Conn): Promise<Workflow> {
  const workflow = await repo.findWorkflowByKey(conn, SEND_INVITATION);
  if (!workflow)
    throw new AppError('INTERNAL', 'The Send Invitation workflow is missing; run admit migrate.');
  if (!workflow.active) {
    throw new AppError(
      'WORKFLOW_INACTIVE',
      'The Send Invitation workflow is deactivated; activate it to send invitations.',
    );
  }
  return workflow;
}

/** The send workflow's current template, compiled, whether or not the workflow is active (delivery). */
export async function sendTemplate(conn: Conn): Promise<{ template: EmailTemplate; key: string }> {
  const workflow = await repo.findWorkflowByKey(conn, SEND_INVITATION);
  const template = workflow?.templateId ? await repo.findTemplate(conn, workflow.templateId) : undefined;
  if (!template) throw new Error('The Send Invitation workflow has no email template; run admit migrate.');
  return { template, key: templateKey(template) };
}

/** The cache key of a template version (compiled templates are cached by it, here and in threads). */
export const templateKey = (t: EmailTemplate): string => `${t.id}:${t.updatedAt}`;

export async function listWorkflows(
  deps: Deps,
  q: { limit: number; cursor?: string },
): Promise<Page<Workflow>> {
  return toPage(
    await repo.findWorkflows(deps.db, { before: decodeCursor(q.cursor), limit: q.limit + 1 }),
    q.limit,
  );
}

/** A workflow (404 otherwise); inside a transaction its row is held until the end (PostgreSQL). */
export async function getWorkflow(deps: Deps, id: string, conn: Conn = deps.db): Promise<Workflow> {
  const w = await repo.findWorkflow(conn, id, { lock: conn !== deps.db });
  if (!w) throw notFound('workflow', id);
  return w;
}

export interface WorkflowInput {
  name: string;
  websiteId?: string | null;
  steps: Step[];
  eventTypes?: string[];
  active?: boolean;
}

async function checkWorkflow(
  trx: Conn,
  deps: Deps,
  w: { steps: readonly Step[]; websiteId: string | null; eventTypes: readonly string[] },
): Promise<void> {
  const errors = await stepProblems(trx, deps, w.steps, w.websiteId);
  if (w.websiteId !== null && !(await websiteExists(trx, w.websiteId)))
    errors.push({ path: '/websiteId', message: `No website with id ${w.websiteId}.` });
  for (const [i, t] of w.eventTypes.entries())
    if (!(WORKFLOW_TRIGGER_EVENT_TYPES as readonly string[]).includes(t))
      errors.push({
        path: `/eventTypes/${i}`,
        message: `"${t}" cannot start a workflow; use one of ${WORKFLOW_TRIGGER_EVENT_TYPES.join(', ')}.`,
      });
  throwIfInvalid(errors);
}

/** Creates a workflow at version 1 (its steps validated whole; 400s name the step). */
export async function createWorkflow(deps: Deps, actor: Actor, input: WorkflowInput): Promise<Workflow> {
  return deps.db.transaction().execute(async (trx) => {
    const w: Workflow = {
      id: newId(),
      key: null,
      name: input.name,
      active: input.active ?? true,
      version: 1,
      steps: input.steps,
      websiteId: input.websiteId ?? null,
      eventTypes: [...new Set(input.eventTypes ?? [])],
      fromAddress: null,
      templateId: null,
      createdAt: deps.now().toISOString(),
      updatedAt: deps.now().toISOString(),
    };
    await checkWorkflow(trx, deps, w);
    await repo.insertWorkflow(trx, w);
    await repo.insertVersion(trx, {
      workflowId: w.id,
      version: 1,
      name: w.name,
      steps: w.steps,
      createdAt: w.createdAt,
    });
    await recordAudit(
      trx,
      deps,
      actor,
      'workflow.created',
      { type: 'workflow', id: w.id },
      {
        name: w.name,
        steps: w.steps.map((s) => s.type),
      },
    );
    return w;
  });
}

/**
 * Edits a workflow; any edit is a new version (runs already started keep theirs). The built-in Send
 * Invitation workflow has no steps to edit, and its From and template change only while it is
 * deactivated, as in Power Pages.
 */
export async function updateWorkflow(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: Partial<Omit<WorkflowInput, 'active'>> & { fromAddress?: string | null; templateId?: string },
): Promise<Workflow> {
  return deps.db.transaction().execute(async (trx) => {
    const current = await getWorkflow(deps, id, trx);
    const builtIn = current.key !== null;
    if (
      builtIn &&
      (patch.steps !== undefined || patch.websiteId !== undefined || patch.eventTypes !== undefined)
    )
      throw invalid(
        '/steps',
        `The built-in workflow "${current.name}" has no steps, website or events to edit.`,
      );
    if (!builtIn && (patch.fromAddress !== undefined || patch.templateId !== undefined))
      throw invalid(
        patch.fromAddress !== undefined ? '/fromAddress' : '/templateId',
        'From and template belong to the built-in Send Invitation workflow; a workflow sends with send-email steps.',
      );
    if (current.active && (patch.fromAddress !== undefined || patch.templateId !== undefined)) {
      throw new AppError(
        'WORKFLOW_ACTIVE',
        `Deactivate the workflow "${current.name}" before changing its From or template.`,
      );
    }
    if (patch.templateId && !(await repo.findTemplate(trx, patch.templateId))) {
      throw invalid('/templateId', `No email template with id ${patch.templateId}.`);
    }
    const next: Workflow = {
      ...current,
      name: patch.name ?? current.name,
      steps: patch.steps ?? current.steps,
      websiteId: patch.websiteId === undefined ? current.websiteId : patch.websiteId,
      eventTypes: patch.eventTypes ? [...new Set(patch.eventTypes)] : current.eventTypes,
      fromAddress: patch.fromAddress === undefined ? current.fromAddress : patch.fromAddress,
      templateId: patch.templateId ?? current.templateId,
      version: current.version + 1,
      updatedAt: deps.now().toISOString(),
    };
    if (!builtIn) await checkWorkflow(trx, deps, next);
    await repo.updateWorkflow(trx, next);
    await repo.insertVersion(trx, {
      workflowId: id,
      version: next.version,
      name: next.name,
      steps: next.steps,
      createdAt: next.updatedAt,
    });
    await recordAudit(
      trx,
      deps,
      actor,
      'workflow.updated',
      { type: 'workflow', id },
      { changes: patch, version: next.version },
    );
    return next;
  });
}

/** Deletes a workflow that never ran and that no invitation names (409 IN_USE otherwise). */
export async function deleteWorkflow(deps: Deps, actor: Actor, id: string): Promise<void> {
  await inUseOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await getWorkflow(deps, id, trx);
        if (current.key !== null)
          throw new AppError(
            'CONFLICT',
            `The built-in workflow "${current.name}" cannot be deleted; deactivate it.`,
          );
        await repo.deleteWorkflow(trx, id);
        await recordAudit(
          trx,
          deps,
          actor,
          'workflow.deleted',
          { type: 'workflow', id },
          { name: current.name },
        );
      }),
    () =>
      new AppError(
        'IN_USE',
        'The workflow has runs or is named by invitations; deactivate it instead, so that it stays on record.',
      ),
  );
}

export async function listVersions(deps: Deps, id: string): Promise<WorkflowVersion[]> {
  await getWorkflow(deps, id);
  return repo.findVersions(deps.db, id);
}

/** The secret that signs this workflow's call-webhook requests (`whsec_…`); the reveal is audited. */
export async function revealSigningSecret(deps: Deps, actor: Actor, id: string): Promise<{ secret: string }> {
  return deps.db.transaction().execute(async (trx) => {
    const w = await getWorkflow(deps, id, trx);
    if (w.key !== null) throw notFound('workflow with call-webhook steps', id);
    await recordAudit(trx, deps, actor, 'workflow.signing_secret_revealed', { type: 'workflow', id }, {});
    return { secret: secretOf(signingKey(deps, id, 1)) };
  });
}

export async function setWorkflowActive(
  deps: Deps,
  actor: Actor,
  id: string,
  active: boolean,
): Promise<Workflow> {
  return deps.db.transaction().execute(async (trx) => {
    const current = await getWorkflow(deps, id, trx);
    const next = { ...current, active, updatedAt: deps.now().toISOString() };
    await repo.setWorkflowActive(trx, id, active, next.updatedAt);
    await recordAudit(
      trx,
      deps,
      actor,
      active ? 'workflow.activated' : 'workflow.deactivated',
      { type: 'workflow', id },
      {},
    );
    return next;
  });
}

export async function listTemplates(
  deps: Deps,
  q: { limit: number; cursor?: string },
): Promise<Page<EmailTemplate>> {
  return toPage(
    await repo.findTemplates(deps.db, { before: decodeCursor(q.cursor), limit: q.limit + 1 }),
    q.limit,
  );
}

export async function getTemplate(deps: Deps, id: string, conn: Conn = deps.db): Promise<EmailTemplate> {
  const t = await repo.findTemplate(conn, id);
  if (!t) throw notFound('email template', id);
  return t;
}

/** A new template (for send-email steps); Liquid errors are 400s. */
export async function createTemplate(
  deps: Deps,
  actor: Actor,
  input: { name: string; subject: string; html: string; text: string },
): Promise<EmailTemplate> {
  compileTemplate(input);
  return deps.db.transaction().execute(async (trx) => {
    const at = deps.now().toISOString();
    const t: EmailTemplate = { id: newId(), key: null, ...input, createdAt: at, updatedAt: at };
    await repo.insertTemplate(trx, t);
    await recordAudit(
      trx,
      deps,
      actor,
      'email_template.created',
      { type: 'email_template', id: t.id },
      { name: t.name },
    );
    return t;
  });
}

/** Replaces a template; refused while an active workflow sends with it; Liquid errors are 400s. */
export async function replaceTemplate(
  deps: Deps,
  actor: Actor,
  id: string,
  input: { name: string; subject: string; html: string; text: string },
): Promise<EmailTemplate> {
  compileTemplate(input);
  return deps.db.transaction().execute(async (trx) => {
    const current = await getTemplate(deps, id, trx);
    if (await repo.isTemplateInActiveUse(trx, id)) {
      throw new AppError(
        'WORKFLOW_ACTIVE',
        'An active workflow sends with this template; deactivate the Send Invitation workflow first.',
      );
    }
    const next: EmailTemplate = { ...current, ...input, updatedAt: deps.now().toISOString() };
    await repo.updateTemplate(trx, next);
    await recordAudit(
      trx,
      deps,
      actor,
      'email_template.updated',
      { type: 'email_template', id },
      { name: next.name },
    );
    return next;
  });
}
