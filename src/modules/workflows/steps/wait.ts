import { durationMs, type Step } from '../workflow.steps.ts';
import type { StepExecutor } from './step.ts';

/** Sleeps the run for the step's duration (validated on save). */
export const wait: StepExecutor<Extract<Step, { type: 'wait' }>> = async ({ deps, step }) => {
  const until = new Date(deps.now().getTime() + (durationMs(step.duration) ?? 0)).toISOString();
  return { kind: 'wait', until, message: `Waiting ${step.duration}, until ${until}.` };
};
