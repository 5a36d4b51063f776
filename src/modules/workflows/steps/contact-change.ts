import { applyContactChange, type ContactChange } from '../../contacts/contact.ts';
import { findWebRolesByIds } from '../../websites/website.ts';
import type { Step } from '../workflow.steps.ts';
import type { StepExecutor } from './step.ts';

type ContactStep = Extract<
  Step,
  { type: 'set-contact-fields' | 'add-web-roles' | 'remove-web-roles' | 'set-parent-account' }
>;

const changeOf = (step: ContactStep): { change: ContactChange; message: string } => {
  switch (step.type) {
    case 'set-contact-fields':
      return {
        change: { kind: 'fields', fields: step.fields },
        message: `Set ${Object.keys(step.fields).join(', ')}.`,
      };
    case 'add-web-roles':
      return {
        change: { kind: 'add-web-roles', webRoleIds: step.webRoleIds },
        message: `Added ${step.webRoleIds.length} web role(s).`,
      };
    case 'remove-web-roles':
      return {
        change: { kind: 'remove-web-roles', webRoleIds: step.webRoleIds },
        message: `Removed ${step.webRoleIds.length} web role(s).`,
      };
    case 'set-parent-account':
      return {
        change: { kind: 'parent-account', accountId: step.accountId },
        message: 'Set the parent account.',
      };
  }
};

/**
 * Changes the run's contact (fields, web roles, parent account), in the step's own transaction. Web
 * roles are checked again here, against the run's website: a workflow edited after an invitation
 * chose it, or started by an event of another portal, never hands out another portal's roles.
 */
export const changeContact: StepExecutor<ContactStep> = async ({ deps, run, step }) => {
  if (step.type === 'add-web-roles' || step.type === 'remove-web-roles') {
    const roles = await findWebRolesByIds(deps.db, step.webRoleIds);
    if (run.websiteId === null || roles.some((r) => r.websiteId !== run.websiteId))
      return { kind: 'fail', message: "The step's web roles belong to another website than the run's." };
  }
  const { change, message } = changeOf(step);
  return {
    kind: 'done',
    message,
    write: (trx) =>
      applyContactChange(trx, deps, run.contactId, change, {
        runId: run.id,
        actor: { type: 'system', id: null, ip: null },
      }),
  };
};
