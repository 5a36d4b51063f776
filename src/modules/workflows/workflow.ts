/**
 * The workflows module's face: its domain types and the functions other modules may call. Nothing
 * else of the module is imported from outside it.
 */

export { redemptionRunWrites } from './run.service.ts';
export type { Workflow } from './workflow.service.ts';
export {
  activeSendWorkflow,
  getTemplate,
  requireRedemptionWorkflow,
  sendTemplate,
  templateKey,
} from './workflow.service.ts';
