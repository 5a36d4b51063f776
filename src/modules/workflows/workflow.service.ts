import type { Conn } from '../../db/database.ts';
import { invalid } from '../../errors.ts';
import { workflowExists } from './workflow.repository.ts';

/**
 * Workflows (SPEC 7). Invitations need only the rule "a referenced workflow exists" for now;
 * definitions, runs and steps arrive with the Send Invitation workflow.
 */
export async function requireWorkflow(conn: Conn, id: string, path: string): Promise<void> {
  if (!(await workflowExists(conn, id))) throw invalid(path, `No workflow with id ${id}.`);
}
