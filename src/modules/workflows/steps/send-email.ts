import { derivedId } from '../../../ids.ts';
import { enqueue } from '../../../jobs/enqueue.ts';
import { deliveryJobs, insertEmails, newEmail } from '../../emails/email.ts';
import { findTemplate } from '../workflow.repository.ts';
import type { Step } from '../workflow.steps.ts';
import type { StepExecutor } from './step.ts';

/** The email kind of send-email steps (composed by workflow.messages.ts). */
export const WORKFLOW_EMAIL_KIND = 'workflow';

/**
 * The id of the email a run's send-email step writes: derived from the run and the step, it is the
 * step's idempotency key (a step recorded twice could not write two emails either), and it tells
 * the message source which step, and so which template, an email of the run is.
 */
export const emailIdOfStep = (run: { id: string; createdAt: string }, index: number): string =>
  derivedId(Date.parse(run.createdAt), `workflow-run:${run.id}:step:${index}`);

/** Queues an email from the step's template to the contact's primary email, through the one delivery. */
export const sendEmail: StepExecutor<Extract<Step, { type: 'send-email' }>> = async ({
  deps,
  run,
  step,
  index,
  contact,
}) => {
  const template = await findTemplate(deps.db, step.templateId);
  if (!template) return { kind: 'fail', message: `The email template ${step.templateId} was deleted.` };
  if (!contact.email) return { kind: 'fail', message: 'The contact has no primary email to send to.' };
  const to = contact.email;
  return {
    kind: 'done',
    message: `Email "${template.name}" queued to ${to}.`,
    write: async (trx) => {
      const now = deps.now();
      const email = newEmail(
        deps,
        {
          kind: WORKFLOW_EMAIL_KIND,
          sourceId: run.id,
          invitationId: null,
          contactId: contact.id,
          to,
          from: deps.config.mailFrom,
        },
        now.toISOString(),
        emailIdOfStep(run, index),
      );
      await insertEmails(trx, [email]);
      await enqueue(trx, now, deliveryJobs([email.id]));
    },
  };
};
