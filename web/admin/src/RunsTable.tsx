import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { when } from './format.ts';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';

const STATUS: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** One run's log, fetched when its row is opened (and again when the run changes). */
function RunLog({ id, version }: { id: string; version: string }) {
  const [open, setOpen] = useState(false);
  const [run, setRun] = useState<Json | null>(null);
  const [failed, setFailed] = useState('');
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new `version` (the run changed) fetches again
  useEffect(() => {
    if (!open) return;
    api('GET', `/workflow-runs/${id}`)
      .then((r) => {
        setRun(r);
        setFailed('');
      })
      .catch((err) => setFailed(err instanceof ApiError ? err.message : 'Could not load the log.'));
  }, [id, open, version]);
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Log</summary>
      {failed ? <p className="error">{failed}</p> : run ? <LogLines run={run} /> : <p>Loading the log…</p>}
    </details>
  );
}

function LogLines({ run }: { run: Json }) {
  return (
    <ol className="log">
      {(run.log as Json[]).map((l) => (
        <li key={l.id}>
          <span className={`status ${l.outcome}`}>{l.outcome}</span>{' '}
          {l.stepIndex === null ? 'Run' : `Step ${l.stepIndex + 1} (${l.stepType ?? 'run'})`}: {l.message}{' '}
          <time dateTime={l.at}>{when(l.at)}</time>
        </li>
      ))}
    </ol>
  );
}

/**
 * Workflow runs of a workflow, a contact or an invitation (`query`: the list's filter), newest
 * first, each with its log on demand, Retry for a failed one and Cancel for one not finished.
 */
export function RunsTable({ query, title = 'Workflow runs' }: { query: string; title?: string }) {
  const [runs, setRuns] = useState<Json[]>([]);
  const [names, setNames] = useState<Record<string, string>>({});
  const load = useCallback(async () => {
    const [r, w] = await Promise.all([
      api('GET', `/workflow-runs?${query}&limit=50`),
      api('GET', '/workflows?limit=500'),
    ]);
    setRuns(r.items);
    setNames(Object.fromEntries((w.items as Json[]).map((x) => [x.id, x.name])));
  }, [query]);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the runs.'));
  }, [load, setError]);

  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      <Notices message={message} error={error} />
      {runs.length === 0 ? (
        <p>No runs yet.</p>
      ) : (
        <Scroll label={title}>
          <table>
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Started</th>
                <th scope="col">Log and actions</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <a href={`#/workflows/${r.workflowId}`}>{names[r.workflowId] ?? 'Workflow'}</a> v
                    {r.workflowVersion}
                  </td>
                  <td>
                    <span className={`status ${r.status}`}>{STATUS[r.status] ?? r.status}</span>
                    {r.lastError && <div className="hint">{r.lastError}</div>}
                  </td>
                  <td>{r.trigger}</td>
                  <td>{when(r.createdAt)}</td>
                  <td>
                    <RunLog id={r.id} version={r.updatedAt} />
                    {r.status === 'failed' && (
                      <button
                        type="button"
                        onClick={() => run(() => api('POST', `/workflow-runs/${r.id}/retry`), 'Run retried.')}
                      >
                        Retry
                      </button>
                    )}
                    {['queued', 'running', 'waiting'].includes(r.status) && (
                      <button
                        type="button"
                        onClick={() =>
                          run(
                            () => api('POST', `/workflow-runs/${r.id}/cancel`),
                            'Run cancelled.',
                            'Cancel this run? Its remaining steps will not run.',
                          )
                        }
                      >
                        Cancel run
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
