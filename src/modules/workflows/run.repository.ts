import { type CompiledQuery, type Selectable, sql } from 'kysely';
import { insertMany } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import type { WorkflowRunLogTable, WorkflowRunStatus, WorkflowRunsTable } from '../../db/schema.ts';
import { instant } from '../../db/values.ts';

export type RunStatus = WorkflowRunStatus;
export type RunTrigger = 'redemption' | 'manual' | 'event';

export interface WorkflowRun {
  id: string;
  workflowId: string;
  workflowVersion: number;
  trigger: RunTrigger;
  contactId: string;
  invitationId: string | null;
  websiteId: string | null;
  eventId: string | null;
  status: RunStatus;
  /** The index of the first step not done. */
  nextStep: number;
  /** Failed attempts of the step at nextStep. */
  attempts: number;
  waitUntil: string | null;
  lastError: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface RunLogLine {
  id: string;
  runId: string;
  stepIndex: number | null;
  stepType: string | null;
  outcome: string;
  message: string;
  at: string;
}

const opt = (v: string | Date | null) => (v === null ? null : instant(v));

const toRun = (r: Selectable<WorkflowRunsTable>): WorkflowRun => ({
  id: r.id,
  workflowId: r.workflow_id,
  workflowVersion: r.workflow_version,
  trigger: r.trigger,
  contactId: r.contact_id,
  invitationId: r.invitation_id,
  websiteId: r.website_id,
  eventId: r.event_id,
  status: r.status,
  nextStep: r.next_step,
  attempts: r.attempts,
  waitUntil: opt(r.wait_until),
  lastError: r.last_error,
  createdBy: r.created_by,
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
  finishedAt: opt(r.finished_at),
});

const toLine = (r: Selectable<WorkflowRunLogTable>): RunLogLine => ({
  id: r.id,
  runId: r.run_id,
  stepIndex: r.step_index,
  stepType: r.step_type,
  outcome: r.outcome,
  message: r.message,
  at: instant(r.at),
});

const RUN_COLUMNS = {
  id: 'text',
  workflow_id: 'text',
  workflow_version: 'int',
  trigger: 'text',
  contact_id: 'text',
  invitation_id: 'text',
  website_id: 'text',
  event_id: 'text',
  status: 'text',
  next_step: 'int',
  attempts: 'int',
  wait_until: 'timestamptz',
  last_error: 'text',
  created_by: 'text',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
  finished_at: 'timestamptz',
};

const runRow = (r: WorkflowRun) => ({
  id: r.id,
  workflow_id: r.workflowId,
  workflow_version: r.workflowVersion,
  trigger: r.trigger,
  contact_id: r.contactId,
  invitation_id: r.invitationId,
  website_id: r.websiteId,
  event_id: r.eventId,
  status: r.status,
  next_step: r.nextStep,
  attempts: r.attempts,
  wait_until: r.waitUntil,
  last_error: r.lastError,
  created_by: r.createdBy,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
  finished_at: r.finishedAt,
});

export async function insertRuns(conn: Conn, runs: readonly WorkflowRun[]): Promise<void> {
  await insertMany(conn, 'workflow_runs', RUN_COLUMNS, runs.map(runRow));
}

/**
 * The statement that starts a redemption's run at the workflow's current version, for the
 * redemption's write batch (it reads only `workflows`, which the batch does not change): `queued`,
 * or `cancelled` with the reason when the workflow is deactivated.
 */
export function insertRedemptionRunWrite(
  conn: Conn,
  r: {
    id: string;
    workflowId: string;
    contactId: string;
    invitationId: string;
    websiteId: string;
    at: string;
  },
): CompiledQuery {
  const of = (column: string) => sql`(select ${sql.raw(column)} from workflows where id = ${r.workflowId})`;
  return conn
    .insertInto('workflow_runs')
    .values({
      id: r.id,
      workflow_id: r.workflowId,
      workflow_version: of('version') as never,
      trigger: 'redemption',
      contact_id: r.contactId,
      invitation_id: r.invitationId,
      website_id: r.websiteId,
      status: of("case when active then 'queued' else 'cancelled' end") as never,
      last_error: of(
        "case when active then null else 'The workflow was deactivated when the invitation was redeemed.' end",
      ) as never,
      created_at: r.at,
      updated_at: r.at,
      finished_at: null,
    })
    .compile();
}

export async function findRun(conn: Conn, id: string): Promise<WorkflowRun | undefined> {
  const r = await conn.selectFrom('workflow_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toRun(r);
}

export async function findRuns(
  conn: Conn,
  q: {
    workflowId?: string;
    contactId?: string;
    invitationId?: string;
    status?: RunStatus;
    before?: string;
    limit: number;
  },
): Promise<WorkflowRun[]> {
  let query = conn.selectFrom('workflow_runs').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.workflowId) query = query.where('workflow_id', '=', q.workflowId);
  if (q.contactId) query = query.where('contact_id', '=', q.contactId);
  if (q.invitationId) query = query.where('invitation_id', '=', q.invitationId);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toRun);
}

/** The runs an event already started (an event's publication may run twice). */
export async function findRunsOfEvents(conn: Conn, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await conn
    .selectFrom('workflow_runs')
    .select(['event_id', 'workflow_id'])
    .where('event_id', 'in', eventIds)
    .execute();
  return new Set(rows.map((r) => `${r.event_id}:${r.workflow_id}`));
}

/**
 * Moves a run from one state to the next only if it is still where the caller saw it (`status` one
 * of `from`, at step `atStep`): the compare-and-set that makes each step happen once. True when
 * this call moved it.
 */
export async function moveRun(
  conn: Conn,
  id: string,
  from: { status: readonly RunStatus[]; atStep?: number; attempts?: number },
  to: Partial<
    Pick<WorkflowRun, 'status' | 'nextStep' | 'attempts' | 'waitUntil' | 'lastError' | 'finishedAt'>
  > & {
    updatedAt: string;
  },
): Promise<boolean> {
  let q = conn
    .updateTable('workflow_runs')
    .set({
      ...(to.status !== undefined ? { status: to.status } : {}),
      ...(to.nextStep !== undefined ? { next_step: to.nextStep } : {}),
      ...(to.attempts !== undefined ? { attempts: to.attempts } : {}),
      ...(to.waitUntil !== undefined ? { wait_until: to.waitUntil } : {}),
      ...(to.lastError !== undefined ? { last_error: to.lastError?.slice(0, 2000) ?? null } : {}),
      ...(to.finishedAt !== undefined ? { finished_at: to.finishedAt } : {}),
      updated_at: to.updatedAt,
    })
    .where('id', '=', id)
    .where('status', 'in', from.status);
  if (from.atStep !== undefined) q = q.where('next_step', '=', from.atStep);
  if (from.attempts !== undefined) q = q.where('attempts', '=', from.attempts);
  const r = await q.executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

const LOG_COLUMNS = {
  id: 'text',
  run_id: 'text',
  step_index: 'int',
  step_type: 'text',
  outcome: 'text',
  message: 'text',
  at: 'timestamptz',
};

export async function insertLog(conn: Conn, lines: readonly RunLogLine[]): Promise<void> {
  await insertMany(
    conn,
    'workflow_run_log',
    LOG_COLUMNS,
    lines.map((l) => ({
      id: l.id,
      run_id: l.runId,
      step_index: l.stepIndex,
      step_type: l.stepType,
      outcome: l.outcome,
      message: l.message.slice(0, 2000),
      at: l.at,
    })),
  );
}

export async function findLog(conn: Conn, runIds: readonly string[]): Promise<RunLogLine[]> {
  if (runIds.length === 0) return [];
  const rows = await conn
    .selectFrom('workflow_run_log')
    .selectAll()
    .where('run_id', 'in', runIds)
    .orderBy('id')
    .execute();
  return rows.map(toLine);
}
