import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
import { compileTemplate } from '../../mail/liquid.ts';
import { recordAudit } from '../events/event.ts';
import type { EmailTemplate, Workflow } from './workflow.repository.ts';
import * as repo from './workflow.repository.ts';

export type { EmailTemplate, Workflow };

/**
 * Workflows and their email templates (SPEC 4 and 7). The built-in Send Invitation workflow
 * (`send-invitation`) sends every invitation. As in Power Pages, its From and template can be
 * edited only while it is deactivated, and sends are refused while it is.
 */
export const SEND_INVITATION = 'send-invitation';

export async function requireWorkflow(conn: Conn, id: string, path: string): Promise<void> {
  if (!(await repo.workflowExists(conn, id))) throw invalid(path, `No workflow with id ${id}.`);
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

export async function getWorkflow(deps: Deps, id: string, conn: Conn = deps.db): Promise<Workflow> {
  const w = await repo.findWorkflow(conn, id);
  if (!w) throw notFound('workflow', id);
  return w;
}

export async function updateWorkflow(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: { name?: string; fromAddress?: string | null; templateId?: string },
): Promise<Workflow> {
  return deps.db.transaction().execute(async (trx) => {
    const current = await getWorkflow(deps, id, trx);
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
      fromAddress: patch.fromAddress === undefined ? current.fromAddress : patch.fromAddress,
      templateId: patch.templateId ?? current.templateId,
      version: current.version + 1,
      updatedAt: deps.now().toISOString(),
    };
    await repo.updateWorkflow(trx, next);
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

export async function setWorkflowActive(
  deps: Deps,
  actor: Actor,
  id: string,
  active: boolean,
): Promise<Workflow> {
  return deps.db.transaction().execute(async (trx) => {
    const current = await getWorkflow(deps, id, trx);
    const next = { ...current, active, updatedAt: deps.now().toISOString() };
    await repo.updateWorkflow(trx, next);
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
