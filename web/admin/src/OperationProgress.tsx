import { useEffect, useRef, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { Scroll } from './Scroll.tsx';

const POLL_MS = 1000;

/** One line with an operation's counts, as the CLI prints it. */
export function countsOf(op: Json): string {
  if (op.kind === 'contacts.import')
    return `${op.created} created, ${op.skipped} skipped, ${op.failed} failed`;
  return `${op.created} invitations created${op.input?.send ? `, ${op.queued} queued for sending` : ''}, ${op.failed} not invited`;
}

/**
 * A bulk operation (a large import or invitation) while it runs on the server: a progress bar with
 * its counts, read again every second until it is done, then its failures by line or position.
 * Leaving the screen does not stop it.
 */
export function OperationProgress({ operation, onDone }: { operation: Json; onDone?: (op: Json) => void }) {
  const [op, setOp] = useState(operation);
  const [error, setError] = useState('');
  const running = op.status === 'queued' || op.status === 'running';
  const told = useRef(false);

  useEffect(() => {
    if (!running) {
      // Once: the caller's handler may render it again with a new handler.
      if (!told.current) onDone?.(op);
      told.current = true;
      return;
    }
    const timer = setTimeout(async () => {
      try {
        setOp(await api('GET', `/operations/${op.id}`));
        setError('');
      } catch (err) {
        setError(err instanceof ApiError ? err.message : 'Could not read the progress; trying again.');
        setOp({ ...op });
      }
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [op, running, onDone]);

  const title = op.kind === 'contacts.import' ? 'Import' : 'Invitations';
  return (
    <section aria-labelledby={`op-${op.id}`} className="panel">
      <h3 id={`op-${op.id}`}>
        {title}: {running ? 'in progress' : op.status === 'succeeded' ? 'done' : 'stopped'}
      </h3>
      <progress
        className="operation"
        value={op.done}
        max={Math.max(1, op.total)}
        aria-label={`${title} progress`}
      />
      <p role="status">
        {op.done.toLocaleString()} of {op.total.toLocaleString()} — {countsOf(op)}.
        {running ? ' It goes on if you leave this screen.' : ''}
      </p>
      {op.status === 'failed' && (
        <p role="alert" className="notice error">
          {op.error}
        </p>
      )}
      {error && <p className="notice error">{error}</p>}
      {!running && op.failures.length > 0 && (
        <Scroll label="Not done">
          <table>
            <caption>
              Not done{op.moreFailures ? ` (the first ${op.failures.length} of ${op.failed})` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  {op.input?.source === 'csv' || op.kind === 'contacts.import' ? 'Line' : 'Position'}
                </th>
                <th scope="col">Contact</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {op.failures.map((f: Json) => (
                <tr key={f.position}>
                  <td>{f.position}</td>
                  <td>{f.item ?? ''}</td>
                  <td>{f.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
