import { callWebhook } from './call-webhook.ts';
import { changeContact } from './contact-change.ts';
import { sendEmail } from './send-email.ts';
import type { StepInput, StepResult } from './step.ts';
import { wait } from './wait.ts';

export type { StepResult };

/** Runs one step of its type. */
export function executeStep(input: StepInput): Promise<StepResult> {
  const { step } = input;
  switch (step.type) {
    case 'send-email':
      return sendEmail({ ...input, step });
    case 'set-contact-fields':
    case 'add-web-roles':
    case 'remove-web-roles':
    case 'set-parent-account':
      return changeContact({ ...input, step });
    case 'call-webhook':
      return callWebhook({ ...input, step });
    case 'wait':
      return wait({ ...input, step });
  }
}
