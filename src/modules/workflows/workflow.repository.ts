import type { Selectable } from 'kysely';
import type { Conn } from '../../db/database.ts';
import type { EmailTemplatesTable, WorkflowsTable } from '../../db/schema.ts';
import { bool, flag, instant, parsed } from '../../db/values.ts';

export interface Workflow {
  id: string;
  key: string | null;
  name: string;
  active: boolean;
  version: number;
  steps: Record<string, unknown>[];
  fromAddress: string | null;
  templateId: string | null;
  createdAt: string;
  updatedAt: string;
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

export async function findWorkflow(conn: Conn, id: string): Promise<Workflow | undefined> {
  const r = await conn.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toWorkflow(r);
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

export async function updateWorkflow(conn: Conn, w: Workflow): Promise<void> {
  await conn
    .updateTable('workflows')
    .set({
      name: w.name,
      active: bool(w.active),
      version: w.version,
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

export async function updateTemplate(conn: Conn, t: EmailTemplate): Promise<void> {
  await conn
    .updateTable('email_templates')
    .set({ name: t.name, subject: t.subject, html: t.html, text: t.text, updated_at: t.updatedAt })
    .where('id', '=', t.id)
    .execute();
}
