import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { isDatabaseUnavailable, isForeignKeyViolation } from '../../db/dialect.ts';
import { newId } from '../../ids.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import type { Job } from '../../jobs/worker.ts';
import { ContactGone, findContact } from '../contacts/contact.ts';
import { publishEvents } from '../events/event.ts';
import type { WorkflowRun } from './run.repository.ts';
import * as repo from './run.repository.ts';
import { executeStep, type StepResult } from './steps/index.ts';
import { findVersion } from './workflow.repository.ts';

/** The job that runs (or resumes) one workflow run. */
export const RUN_JOB = 'workflow.run';

/** Backoff of a failed step before its next attempt; after the last, the run fails. */
export const STEP_RETRY_DELAYS_MS = [10_000, 60_000, 300_000, 1_800_000];

/** The run moved under us (cancelled, or another job took the step): this job stops. */
class Superseded extends Error {}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * The `workflow.run` job: runs a run's steps from its `next_step`, each recorded in the transaction
 * of its database change by a compare-and-set on (status running, next_step), so a step's change
 * happens once however often the job runs (a worker that dies mid-step leaves the step not done,
 * and the job's next run does it). A `wait` step schedules the run's next job and ends this one; a
 * step that fails is tried again after STEP_RETRY_DELAYS_MS, then fails the run with
 * `workflow_run.failed`. A run cancelled meanwhile stops at its next step.
 */
export function workflowRunner(options: { retryDelaysMs?: readonly number[] } = {}) {
  const delays = options.retryDelaysMs ?? STEP_RETRY_DELAYS_MS;
  return async (job: Job & { payload: { runId: string } }, deps: Deps): Promise<void> => {
    const run = await repo.findRun(deps.db, job.payload.runId);
    if (!run || TERMINAL.has(run.status)) return;
    if (run.status === 'waiting' && run.waitUntil && Date.parse(run.waitUntil) > deps.now().getTime() + 1000)
      return;
    const version = await findVersion(deps.db, run.workflowId, run.workflowVersion);
    const started = await repo.moveRun(
      deps.db,
      run.id,
      { status: ['queued', 'waiting', 'running'] },
      { status: 'running', waitUntil: null, updatedAt: deps.now().toISOString() },
    );
    if (!started || !version) return;
    try {
      for (let index = run.nextStep; index < version.steps.length; index++) {
        const step = version.steps[index] as (typeof version.steps)[number];
        const contact = await findContact(deps.db, run.contactId);
        const result: StepResult = contact
          ? await executeStep({ deps, run: { ...run, nextStep: index }, step, index, contact }).catch(
              (err: unknown): StepResult => ({ kind: 'retry', message: (err as Error).message }),
            )
          : { kind: 'fail', message: 'The contact was deleted.' };
        const line = (outcome: string, message: string) => ({
          id: newId(),
          runId: run.id,
          stepIndex: index,
          stepType: step.type,
          outcome,
          message,
          at: deps.now().toISOString(),
        });
        if (result.kind === 'done') {
          const recorded = await inStep(deps, async (trx) => {
            await advance(trx, deps, run.id, index, { nextStep: index + 1, attempts: 0, lastError: null });
            await result.write?.(trx);
            await repo.insertLog(trx, [line('succeeded', result.message)]);
          });
          if (recorded !== true) {
            await failOrRetry(deps, run, index, step.type, recorded, delays, line);
            return;
          }
          continue;
        }
        if (result.kind === 'wait') {
          await deps.db.transaction().execute(async (trx) => {
            await advance(trx, deps, run.id, index, {
              nextStep: index + 1,
              attempts: 0,
              status: 'waiting',
              waitUntil: result.until,
            });
            await repo.insertLog(trx, [line('waiting', result.message)]);
            await enqueue(trx, deps.now(), {
              type: RUN_JOB,
              payload: { runId: run.id },
              runAt: result.until,
            });
          });
          return;
        }
        await failOrRetry(deps, run, index, step.type, result, delays, line);
        return;
      }
      await deps.db.transaction().execute(async (trx) => {
        const at = deps.now().toISOString();
        await advance(trx, deps, run.id, version.steps.length, { status: 'succeeded', finishedAt: at });
        await repo.insertLog(trx, [
          {
            id: newId(),
            runId: run.id,
            stepIndex: null,
            stepType: null,
            outcome: 'succeeded',
            message: 'Every step done.',
            at,
          },
        ]);
        await publishEvents(trx, deps, [
          {
            type: 'workflow_run.succeeded',
            data: {
              runId: run.id,
              workflowId: run.workflowId,
              workflowVersion: run.workflowVersion,
              contactId: run.contactId,
            },
          },
        ]);
      });
    } catch (err) {
      if (err instanceof Superseded) return;
      // The job's last attempt: the worker dead-letters it, so the run fails visibly, not left running.
      // (An outage is not: the worker releases the job without spending the attempt.)
      if (job.attempts >= job.maxAttempts && !isDatabaseUnavailable(err))
        await failForGood(deps, run, (err as Error).message).catch(() => {});
      throw err;
    } finally {
      deps.notifyJobs();
    }
  };
}

/** Moves the run past `atStep` if it is still running there; otherwise Superseded (rolls back). */
async function advance(
  trx: Conn,
  deps: Pick<Deps, 'now'>,
  runId: string,
  atStep: number,
  to: Parameters<typeof repo.moveRun>[3] extends infer T ? Omit<T, 'updatedAt'> : never,
  failedAttempts?: number,
): Promise<void> {
  const moved = await repo.moveRun(
    trx,
    runId,
    { status: ['running'], atStep, attempts: failedAttempts },
    { ...to, updatedAt: deps.now().toISOString() },
  );
  if (!moved) throw new Superseded();
}

/**
 * Runs a step's transaction. True when it committed; a failed result when its change could not be
 * made: a deleted contact, role or account fails the step, any other error is retried.
 */
async function inStep(deps: Deps, work: (trx: Conn) => Promise<void>): Promise<true | StepResult> {
  try {
    await deps.db.transaction().execute(work);
    return true;
  } catch (err) {
    if (err instanceof Superseded) throw err;
    if (err instanceof ContactGone) return { kind: 'fail', message: err.message };
    if (isForeignKeyViolation(err))
      return { kind: 'fail', message: 'A web role or account the step names no longer exists.' };
    return { kind: 'retry', message: (err as Error).message };
  }
}

async function failOrRetry(
  deps: Deps,
  run: WorkflowRun,
  index: number,
  stepType: string,
  result: StepResult,
  delays: readonly number[],
  line: (outcome: string, message: string) => repo.RunLogLine,
): Promise<void> {
  // Counted under a compare-and-set on the attempts seen: of two jobs that failed the same
  // attempt, one records it and schedules the retry, the other stops.
  const seen = (await repo.findRun(deps.db, run.id))?.attempts ?? run.attempts;
  const attempts = seen + 1;
  const delay = result.kind === 'retry' ? delays[attempts - 1] : undefined;
  const message = result.kind === 'retry' || result.kind === 'fail' ? result.message : 'failed';
  await deps.db.transaction().execute(async (trx) => {
    if (delay !== undefined) {
      const at = new Date(deps.now().getTime() + delay).toISOString();
      await advance(trx, deps, run.id, index, { attempts, lastError: message }, seen);
      await repo.insertLog(trx, [
        line('retrying', `Attempt ${attempts} failed: ${message} Next attempt at ${at}.`),
      ]);
      await enqueue(trx, deps.now(), { type: RUN_JOB, payload: { runId: run.id }, runAt: at });
      return;
    }
    await advance(
      trx,
      deps,
      run.id,
      index,
      { status: 'failed', attempts, lastError: message, finishedAt: deps.now().toISOString() },
      seen,
    );
    await repo.insertLog(trx, [
      line('failed', attempts > 1 ? `Failed after ${attempts} attempts: ${message}` : message),
    ]);
    await publishEvents(trx, deps, [
      {
        type: 'workflow_run.failed',
        data: {
          runId: run.id,
          workflowId: run.workflowId,
          workflowVersion: run.workflowVersion,
          contactId: run.contactId,
          stepIndex: index,
          stepType,
          reason: message.slice(0, 500),
        },
      },
    ]);
  });
}

/**
 * Fails a run whose job can be tried no more, wherever it stopped, with `workflow_run.failed`. The
 * run's log and last error say why; the event says only that it stopped (the cause is ours, and
 * may name internal hosts). Best effort: if it cannot be written, the run stays as it was.
 */
async function failForGood(deps: Deps, run: WorkflowRun, reason: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const now = deps.now().toISOString();
    const current = await repo.findRun(trx, run.id);
    if (!current || TERMINAL.has(current.status)) return;
    const message = `The run stopped: its job failed too often (${reason.slice(0, 300)}).`;
    const moved = await repo.moveRun(
      trx,
      run.id,
      { status: ['queued', 'running', 'waiting'], atStep: current.nextStep },
      { status: 'failed', lastError: message, finishedAt: now, updatedAt: now },
    );
    if (!moved) return;
    const stepType = (await findVersion(trx, run.workflowId, run.workflowVersion))?.steps[current.nextStep]
      ?.type;
    await repo.insertLog(trx, [
      { id: newId(), runId: run.id, stepIndex: null, stepType: null, outcome: 'failed', message, at: now },
    ]);
    await publishEvents(trx, deps, [
      {
        type: 'workflow_run.failed',
        data: {
          runId: run.id,
          workflowId: run.workflowId,
          workflowVersion: run.workflowVersion,
          contactId: run.contactId,
          stepIndex: current.nextStep,
          stepType: stepType ?? 'none',
          reason: 'The run stopped: its job failed too often (the run log has the cause).',
        },
      },
    ]);
  });
}
