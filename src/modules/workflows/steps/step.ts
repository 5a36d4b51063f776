import type { Deps } from '../../../context.ts';
import type { Conn } from '../../../db/database.ts';
import type { Contact } from '../../contacts/contact.ts';
import type { WorkflowRun } from '../run.repository.ts';
import type { Step } from '../workflow.steps.ts';

/** What a step executor is given: the run, its step and index, and the run's contact. */
export interface StepInput<S extends Step = Step> {
  deps: Deps;
  run: WorkflowRun;
  step: S;
  index: number;
  contact: Contact;
}

/**
 * What a step did or asks for:
 * - `done`: its database change (`write`) runs in the transaction that records the step done, so
 *   the change happens exactly when the step is recorded (once);
 * - `wait`: the run sleeps until `until`;
 * - `retry`: a failure that may pass (a timeout, a 5xx): tried again after a backoff;
 * - `fail`: a failure no retry fixes: the run fails at this step.
 */
export type StepResult =
  | { kind: 'done'; message: string; write?: (trx: Conn) => Promise<void> }
  | { kind: 'wait'; until: string; message: string }
  | { kind: 'retry'; message: string }
  | { kind: 'fail'; message: string };

export type StepExecutor<S extends Step = Step> = (input: StepInput<S>) => Promise<StepResult>;
