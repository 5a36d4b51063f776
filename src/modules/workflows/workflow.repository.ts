import type { Selectable } from 'kysely';
import type { Conn } from '../../db/database.ts';
import { isPostgres } from '../../db/dialect.ts';
import type { EmailTemplatesTable, WorkflowsTable, WorkflowVersionsTable } from '../../db/schema.ts';
import { bool, flag, instant, json, parsed } from '../../db/values.ts';
import type { Step } from './workflow.steps.ts';

export interface Workflow {
  id: string;
  key: string | null;
  name: string;
  active: boolean;
  version: number;
  steps: Step[];
  /** The website the workflow is limited to (null: any). */
  websiteId: string | null;
  /** Integrator events that start the workflow on their contact. */
  eventTypes: string[];
  fromAddress: string | null;
  templateId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A saved version of a workflow's name and steps; a run follows the version it started with. */
export interface WorkflowVersion {
  workflowId: string;
  version: number;
  name: string;
  steps: Step[];
  createdAt: string;
}

export interface EmailTemplate {
  id: string;
  key: string | null;
  name: string;
  subject: string;
  html: string;
  text: string;
  createdAt: string;
  updatedAt: string;
}

const toWorkflow = (r: Selectable<WorkflowsTable>): Workflow => ({
  id: r.id,
  key: r.key,
  name: r.name,
  active: flag(r.active),
  version: r.version,
  steps: parsed(r.steps),
  websiteId: r.website_id,
  eventTypes: parsed(r.event_types),
  fromAddress: r.from_address,
  templateId: r.template_id,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const toTemplate = (r: Selectable<EmailTemplatesTable>): EmailTemplate => ({
  id: r.id,
  key: r.key,
  name: r.name,
  subject: r.subject,
  html: r.html,
  text: r.text,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

export async function workflowExists(conn: Conn, id: string): Promise<boolean> {
  const row = await conn.selectFrom('workflows').select('id').where('id', '=', id).executeTakeFirst();
  return row !== undefined;
}

/** A workflow by id; `lock` holds its row until the transaction ends (PostgreSQL). */
export async function findWorkflow(
  conn: Conn,
  id: string,
  o: { lock?: boolean } = {},
): Promise<Workflow | undefined> {
  let q = conn.selectFrom('workflows').selectAll().where('id', '=', id);
  if (o.lock && isPostgres(conn)) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r && toWorkflow(r);
}

export async function setWorkflowActive(conn: Conn, id: string, active: boolean, at: string): Promise<void> {
  await conn
    .updateTable('workflows')
    .set({ active: bool(active), updated_at: at })
    .where('id', '=', id)
    .execute();
}

export async function findWorkflowByKey(conn: Conn, key: string): Promise<Workflow | undefined> {
  const r = await conn.selectFrom('workflows').selectAll().where('key', '=', key).executeTakeFirst();
  return r && toWorkflow(r);
}

export async function findWorkflows(conn: Conn, q: { before?: string; limit: number }): Promise<Workflow[]> {
  let query = conn.selectFrom('workflows').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toWorkflow);
}

export async function insertWorkflow(conn: Conn, w: Workflow): Promise<void> {
  await conn
    .insertInto('workflows')
    .values({
      id: w.id,
      key: w.key,
      name: w.name,
      active: bool(w.active),
      version: w.version,
      steps: json(w.steps),
      website_id: w.websiteId,
      event_types: json(w.eventTypes),
      from_address: w.fromAddress,
      template_id: w.templateId,
      created_at: w.createdAt,
      updated_at: w.updatedAt,
    })
    .execute();
}

export async function deleteWorkflow(conn: Conn, id: string): Promise<boolean> {
  const r = await conn.deleteFrom('workflows').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function insertVersion(conn: Conn, v: WorkflowVersion): Promise<void> {
  await conn
    .insertInto('workflow_versions')
    .values({
      workflow_id: v.workflowId,
      version: v.version,
      name: v.name,
      steps: json(v.steps),
      created_at: v.createdAt,
    })
    .execute();
}

const toVersion = (r: Selectable<WorkflowVersionsTable>): WorkflowVersion => ({
  workflowId: r.workflow_id,
  version: r.version,
  name: r.name,
  steps: parsed(r.steps),
  createdAt: instant(r.created_at),
});

export async function findVersion(
  conn: Conn,
  workflowId: string,
  version: number,
): Promise<WorkflowVersion | undefined> {
  const r = await conn
    .selectFrom('workflow_versions')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('version', '=', version)
    .executeTakeFirst();
  return r && toVersion(r);
}

export async function findVersions(conn: Conn, workflowId: string): Promise<WorkflowVersion[]> {
  const rows = await conn
    .selectFrom('workflow_versions')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map(toVersion);
}

/** Active workflows started by any of these event types. */
export async function findEventWorkflows(conn: Conn, types: readonly string[]): Promise<Workflow[]> {
  if (types.length === 0) return [];
  const rows = await conn
    .selectFrom('workflows')
    .selectAll()
    .where('active', '=', bool(true))
    .where('key', 'is', null)
    .where('event_types', '!=', json([]))
    .execute();
  return rows.map(toWorkflow).filter((w) => w.eventTypes.some((t) => types.includes(t)));
}

export async function updateWorkflow(conn: Conn, w: Workflow): Promise<void> {
  await conn
    .updateTable('workflows')
    .set({
      name: w.name,
      active: bool(w.active),
      version: w.version,
      steps: json(w.steps),
      website_id: w.websiteId,
      event_types: json(w.eventTypes),
      from_address: w.fromAddress,
      template_id: w.templateId,
      updated_at: w.updatedAt,
    })
    .where('id', '=', w.id)
    .execute();
}

/** True when an active workflow sends with this template. */
export async function isTemplateInActiveUse(conn: Conn, templateId: string): Promise<boolean> {
  const r = await conn
    .selectFrom('workflows')
    .select('id')
    .where('template_id', '=', templateId)
    .where('active', '=', bool(true))
    .executeTakeFirst();
  return r !== undefined;
}

export async function findTemplate(conn: Conn, id: string): Promise<EmailTemplate | undefined> {
  const r = await conn.selectFrom('email_templates').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toTemplate(r);
}

export async function findTemplates(
  conn: Conn,
  q: { before?: string; limit: number },
): Promise<EmailTemplate[]> {
  let query = conn.selectFrom('email_templates').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toTemplate);
}

export async function insertTemplate(conn: Conn, t: EmailTemplate): Promise<void> {
  await conn
    .insertInto('email_templates')
    .values({
      id: t.id,
      key: t.key,
      name: t.name,
      subject: t.subject,
      html: t.html,
      text: t.text,
      created_at: t.createdAt,
      updated_at: t.updatedAt,
    })
    .execute();
}

export async function updateTemplate(conn: Conn, t: EmailTemplate): Promise<void> {
  await conn
    .updateTable('email_templates')
    .set({ name: t.name, subject: t.subject, html: t.html, text: t.text, updated_at: t.updatedAt })
    .where('id', '=', t.id)
    .execute();
}
