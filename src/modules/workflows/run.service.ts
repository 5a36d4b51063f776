import type { CompiledQuery } from 'kysely';
import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { enqueue, enqueueWrites } from '../../jobs/enqueue.ts';
import { findContactsByIds, requireContacts } from '../contacts/contact.ts';
import { contactOfEvent, recordAudit, type StoredEvent } from '../events/event.ts';
import type { RunLogLine, RunStatus, WorkflowRun } from './run.repository.ts';
import * as repo from './run.repository.ts';
import { RUN_JOB } from './run.runner.ts';
import { findEventWorkflows } from './workflow.repository.ts';
import { getWorkflow, type Workflow } from './workflow.service.ts';

export type { RunLogLine, RunStatus, WorkflowRun };

export interface RunWithLog extends WorkflowRun {
  workflowName: string;
  log: RunLogLine[];
}

export const MAX_MANUAL_CONTACTS = 1000;

function newRun(
  w: Workflow,
  r: Pick<WorkflowRun, 'trigger' | 'contactId' | 'invitationId' | 'websiteId' | 'eventId' | 'createdBy'>,
  at: string,
): WorkflowRun {
  return {
    id: newId(),
    workflowId: w.id,
    workflowVersion: w.version,
    ...r,
    status: 'queued',
    nextStep: 0,
    attempts: 0,
    waitUntil: null,
    lastError: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
  };
}

const runJobs = (runs: readonly { id: string }[]) =>
  runs.map((r) => ({ type: RUN_JOB, payload: { runId: r.id } }));

/**
 * The statements that start the redemption's run ("Execute Workflow on Redeeming Contact") for the
 * redemption's write batch: the run, at the workflow's current version, and its job, which runs
 * after commit.
 */
export function redemptionRunWrites(
  conn: Conn,
  r: { workflowId: string; contactId: string; invitationId: string; websiteId: string; at: string },
): CompiledQuery[] {
  const id = newId();
  return [
    repo.insertRedemptionRunWrite(conn, { id, ...r }),
    ...enqueueWrites(conn, new Date(r.at), runJobs([{ id }])),
  ];
}

/** "Run workflow" on contacts: one run each, at the workflow's current version. */
export async function startManualRuns(
  deps: Deps,
  actor: Actor,
  input: { workflowId: string; contactIds: string[] },
): Promise<WorkflowRun[]> {
  const runs = await deps.db.transaction().execute(async (trx) => {
    const w = await getWorkflow(deps, input.workflowId, trx).catch(() => {
      throw invalid('/workflowId', `No workflow with id ${input.workflowId}.`);
    });
    if (w.key !== null)
      throw invalid('/workflowId', `The built-in workflow "${w.name}" runs when invitations are sent.`);
    if (!w.active)
      throw new AppError(
        'WORKFLOW_INACTIVE',
        `The workflow "${w.name}" is deactivated; activate it to run it.`,
      );
    const contactIds = [...new Set(input.contactIds)];
    await requireContacts(trx, contactIds, '/contactIds');
    const at = deps.now().toISOString();
    const made = contactIds.map((contactId) =>
      newRun(
        w,
        {
          trigger: 'manual',
          contactId,
          invitationId: null,
          websiteId: w.websiteId,
          eventId: null,
          createdBy: actor.id,
        },
        at,
      ),
    );
    await repo.insertRuns(trx, made);
    await enqueue(trx, deps.now(), runJobs(made));
    await recordAudit(
      trx,
      deps,
      actor,
      'workflow_run.started',
      { type: 'workflow', id: w.id },
      {
        contactIds,
        runIds: made.map((r) => r.id),
      },
    );
    return made;
  });
  deps.notifyJobs();
  return runs;
}

/**
 * The event consumer of event-triggered workflows (events/event.publish.ts): a run of each active
 * workflow the event's type starts, on the event's contact, within the workflow's website if it is
 * limited to one. Idempotent: an event starts a workflow once.
 */
export const eventRuns = {
  /** True when an active workflow is started by events of one of these types. */
  async wants(conn: Conn, types: readonly string[]): Promise<boolean> {
    return types.length > 0 && (await findEventWorkflows(conn, types)).length > 0;
  },
  consume: startEventRuns,
};

async function startEventRuns(trx: Conn, deps: Deps, events: readonly StoredEvent[]): Promise<void> {
  const withContact = events.filter((e) => contactOfEvent(e.type, e.data) !== null);
  if (withContact.length === 0) return;
  const workflows = await findEventWorkflows(trx, [...new Set(withContact.map((e) => e.type))]);
  if (workflows.length === 0) return;
  const started = await repo.findRunsOfEvents(
    trx,
    withContact.map((e) => e.id),
  );
  const at = deps.now().toISOString();
  const runs: WorkflowRun[] = [];
  for (const e of withContact)
    for (const w of workflows) {
      const websiteId = typeof e.data.websiteId === 'string' ? e.data.websiteId : null;
      if (!w.eventTypes.includes(e.type) || started.has(`${e.id}:${w.id}`)) continue;
      // A workflow limited to a website starts only on events of that website.
      if (w.websiteId !== null && w.websiteId !== websiteId) continue;
      runs.push(
        newRun(
          w,
          {
            trigger: 'event',
            contactId: contactOfEvent(e.type, e.data) as string,
            // The event names it; the run does not hold it (it may be gone by now).
            invitationId: null,
            websiteId: w.websiteId ?? websiteId,
            eventId: e.id,
            createdBy: null,
          },
          at,
        ),
      );
    }
  // A contact deleted since the event starts nothing (and must not undo the publication).
  const alive = new Set(
    (await findContactsByIds(trx, [...new Set(runs.map((r) => r.contactId))])).map((c) => c.id),
  );
  const starting = runs.filter((r) => alive.has(r.contactId));
  await repo.insertRuns(trx, starting);
  await enqueue(trx, deps.now(), runJobs(starting));
}

export async function listRuns(
  deps: Deps,
  q: {
    workflowId?: string;
    contactId?: string;
    invitationId?: string;
    status?: RunStatus;
    limit: number;
    cursor?: string;
  },
): Promise<Page<WorkflowRun>> {
  return toPage(
    await repo.findRuns(deps.db, { ...q, before: decodeCursor(q.cursor), limit: q.limit + 1 }),
    q.limit,
  );
}

export async function getRun(deps: Deps, id: string): Promise<RunWithLog> {
  const run = await repo.findRun(deps.db, id);
  if (!run) throw notFound('workflow run', id);
  const w = await getWorkflow(deps, run.workflowId);
  return { ...run, workflowName: w.name, log: await repo.findLog(deps.db, [id]) };
}

const ACTIVE: RunStatus[] = ['queued', 'running', 'waiting'];

/** Cancels a run that has not finished; a step in progress is not recorded, and no later step runs. */
export async function cancelRun(deps: Deps, actor: Actor, id: string): Promise<RunWithLog> {
  await deps.db.transaction().execute(async (trx) => {
    const run = await repo.findRun(trx, id);
    if (!run) throw notFound('workflow run', id);
    const at = deps.now().toISOString();
    if (
      !(await repo.moveRun(
        trx,
        id,
        { status: ACTIVE },
        { status: 'cancelled', finishedAt: at, updatedAt: at },
      ))
    )
      throw new AppError(
        'CONFLICT',
        `The run has ${run.status}; only a queued, running or waiting run can be cancelled.`,
      );
    await repo.insertLog(trx, [
      {
        id: newId(),
        runId: id,
        stepIndex: null,
        stepType: null,
        outcome: 'cancelled',
        message: 'Cancelled by hand.',
        at,
      },
    ]);
    await recordAudit(
      trx,
      deps,
      actor,
      'workflow_run.cancelled',
      { type: 'workflow_run', id },
      { status: run.status },
    );
  });
  return getRun(deps, id);
}

/** Runs a failed run again from the step that failed (the steps done stay done). */
export async function retryRun(deps: Deps, actor: Actor, id: string): Promise<RunWithLog> {
  await deps.db.transaction().execute(async (trx) => {
    const run = await repo.findRun(trx, id);
    if (!run) throw notFound('workflow run', id);
    const at = deps.now().toISOString();
    const moved = await repo.moveRun(
      trx,
      id,
      { status: ['failed'] },
      { status: 'queued', attempts: 0, lastError: null, finishedAt: null, updatedAt: at },
    );
    if (!moved)
      throw new AppError('CONFLICT', `The run has ${run.status}; only a failed run can be retried.`);
    await repo.insertLog(trx, [
      {
        id: newId(),
        runId: id,
        stepIndex: run.nextStep,
        stepType: null,
        outcome: 'retried',
        message: `Retried by hand from step ${run.nextStep + 1}.`,
        at,
      },
    ]);
    await enqueue(trx, deps.now(), runJobs([run]));
    await recordAudit(
      trx,
      deps,
      actor,
      'workflow_run.retried',
      { type: 'workflow_run', id },
      { fromStep: run.nextStep },
    );
  });
  deps.notifyJobs();
  return getRun(deps, id);
}
