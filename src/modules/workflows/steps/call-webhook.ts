import { signingKey } from '../../events/event.ts';
import type { Step } from '../workflow.steps.ts';
import type { StepExecutor } from './step.ts';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * POSTs `{type: "workflow_run.step", timestamp, data}` to the step's URL, signed with the workflow's
 * secret as Standard Webhooks says. `webhook-id` is the step's idempotency key
 * (`wfstep_{run}_{index}`): a retry, or a run taken over after a worker died mid-step, sends the
 * same id. 2xx is done; no answer or a 5xx or 429 is retried; any other answer, or a URL the SSRF
 * guard refuses, fails the step.
 */
export const callWebhook: StepExecutor<Extract<Step, { type: 'call-webhook' }>> = async ({
  deps,
  run,
  step,
  index,
  contact,
}) => {
  const now = deps.now();
  const body = JSON.stringify({
    type: 'workflow_run.step',
    timestamp: now.toISOString(),
    data: {
      runId: run.id,
      workflowId: run.workflowId,
      workflowVersion: run.workflowVersion,
      stepIndex: index,
      trigger: run.trigger,
      invitationId: run.invitationId,
      websiteId: run.websiteId,
      contact: {
        id: contact.id,
        firstName: contact.firstName,
        lastName: contact.lastName,
        email: contact.email,
        parentAccountId: contact.parentAccountId,
      },
    },
  });
  const outcome = await deps.webhooks.post({
    url: step.url,
    id: `wfstep_${run.id}_${index}`,
    body,
    keys: [signingKey(deps, run.workflowId, 1)],
    timeoutMs: step.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    now,
  });
  if (outcome.ok) return { kind: 'done', message: `Answered ${outcome.status} in ${outcome.durationMs} ms.` };
  const message = outcome.error ?? 'No answer.';
  const temporary =
    outcome.status === null
      ? !message.startsWith('Refused') && !message.startsWith('The URL')
      : outcome.status >= 500 || outcome.status === 429;
  return { kind: temporary ? 'retry' : 'fail', message };
};
