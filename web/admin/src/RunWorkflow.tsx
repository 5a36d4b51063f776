import { useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { confirmAction } from './Confirm.tsx';

/**
 * "Run workflow" on the selected contacts (as in Dynamics): choose one of the active workflows,
 * and a run starts on each contact.
 */
export function RunWorkflow({
  contacts,
  onDone,
  onError,
}: {
  contacts: Json[];
  onDone: (summary: string) => void;
  onError: (message: string) => void;
}) {
  const [workflows, setWorkflows] = useState<Json[]>([]);
  const [choice, setChoice] = useState('');
  useEffect(() => {
    void api('GET', '/workflows?limit=500').then((w) =>
      setWorkflows((w.items as Json[]).filter((x) => x.key === null && x.active)),
    );
  }, []);
  const start = async () => {
    const name = workflows.find((w) => w.id === choice)?.name ?? 'the workflow';
    if (
      !(await confirmAction(
        `Run ${name} on ${contacts.length} contact(s)? Its steps change them and may email them.`,
      ))
    )
      return;
    try {
      const runs = await api('POST', '/workflow-runs', {
        workflowId: choice,
        contactIds: contacts.map((c) => c.id),
      });
      onDone(`Started ${runs.items.length} run(s) of ${name}.`);
    } catch (err) {
      onError(err instanceof ApiError ? err.message : 'Could not start the workflow.');
    }
  };
  return (
    <span className="row">
      <label htmlFor="run-workflow">Workflow to run</label>
      <select id="run-workflow" value={choice} onChange={(e) => setChoice(e.target.value)}>
        <option value="">Choose a workflow</option>
        {workflows.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
      <button type="button" disabled={contacts.length === 0 || !choice} onClick={() => void start()}>
        Run workflow on {contacts.length} selected
      </button>
    </span>
  );
}
