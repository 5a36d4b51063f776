import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { when } from './format.ts';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';
import { EventTypeChoice, SecretOnce } from './Webhooks.tsx';

/**
 * One webhook endpoint: edit it, enable or disable it, rotate its secret (the old one signs for a
 * day), send a test event; its deliveries, each with every attempt, and Replay.
 */
export function WebhookPage({ id }: { id: string }) {
  const [endpoint, setEndpoint] = useState<Json | null>(null);
  const [deliveries, setDeliveries] = useState<Json[]>([]);
  const [secret, setSecret] = useState('');
  const load = useCallback(async () => {
    const [e, d] = await Promise.all([
      api('GET', `/webhook-endpoints/${id}`),
      api('GET', `/webhook-endpoints/${id}/deliveries?limit=50`),
    ]);
    setEndpoint(e);
    setDeliveries(d.items);
  }, [id]);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the endpoint.'));
  }, [load, setError]);

  const save = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const eventTypes = form.getAll('eventTypes').map(String);
    if (eventTypes.length === 0) return setError('Choose at least one event.');
    void run(
      () =>
        api('PATCH', `/webhook-endpoints/${id}`, {
          url: String(form.get('url') ?? '').trim(),
          description: String(form.get('description') ?? '').trim() || null,
          eventTypes,
        }),
      'Endpoint saved.',
    );
  };

  if (!endpoint) return <Notices message={message} error={error} />;
  return (
    <section>
      <p>
        <a href="#/webhooks">Webhooks</a>
      </p>
      <h1>{endpoint.url}</h1>
      <p>
        {endpoint.enabled
          ? 'Enabled'
          : `Disabled${endpoint.disabledReason ? `: ${endpoint.disabledReason}` : ''}`}
        {endpoint.failingSince && `, failing since ${when(endpoint.failingSince)}`}.
      </p>
      <Notices message={message} error={error} />
      {secret && <SecretOnce secret={secret} />}
      <div className="commands" role="toolbar" aria-label="Endpoint actions">
        <button
          type="button"
          onClick={() =>
            run(
              () => api('PATCH', `/webhook-endpoints/${id}`, { enabled: !endpoint.enabled }),
              endpoint.enabled ? 'Disabled.' : 'Enabled.',
            )
          }
        >
          {endpoint.enabled ? 'Disable' : 'Enable'}
        </button>
        <button
          type="button"
          onClick={() => run(() => api('POST', `/webhook-endpoints/${id}/test`), 'Test event sent.')}
        >
          Send a test event
        </button>
        <button
          type="button"
          onClick={() =>
            run(
              async () => setSecret((await api('POST', `/webhook-endpoints/${id}/rotate-secret`, {})).secret),
              'New secret made; the old one also signs for a day.',
              'Make a new signing secret? The current one keeps working for a day.',
            )
          }
        >
          Rotate the secret
        </button>
        <button
          type="button"
          onClick={() =>
            run(
              async () => {
                await api('DELETE', `/webhook-endpoints/${id}`);
                location.hash = '#/webhooks';
              },
              'Endpoint deleted.',
              'Delete this endpoint and its deliveries?',
            )
          }
        >
          Delete
        </button>
      </div>
      <h2>Edit</h2>
      <form key={endpoint.updatedAt} onSubmit={save} noValidate>
        <label htmlFor="wh-url">URL</label>
        <input id="wh-url" name="url" defaultValue={endpoint.url} />
        <label htmlFor="wh-description">Description</label>
        <input id="wh-description" name="description" defaultValue={endpoint.description ?? ''} />
        <EventTypeChoice initial={endpoint.eventTypes} />
        <button type="submit">Save endpoint</button>
      </form>
      <h2>Deliveries</h2>
      {deliveries.length === 0 ? (
        <p>No deliveries yet.</p>
      ) : (
        <Scroll label="Deliveries">
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.id}>
                  <td>
                    {d.type}
                    <div className="hint">{when(d.createdAt)}</div>
                  </td>
                  <td>
                    <span className={`status ${d.status}`}>{d.status}</span>
                    {d.nextAttemptAt && d.status === 'pending' && (
                      <div className="hint">next {when(d.nextAttemptAt)}</div>
                    )}
                  </td>
                  <td>
                    <details>
                      <summary>{d.attempts} attempt(s)</summary>
                      <ol className="log">
                        {(d.attemptLog as Json[]).map((a) => (
                          <li key={a.id}>
                            {when(a.at)}: {a.statusCode ?? 'no answer'} in {a.durationMs} ms
                            {a.error && ` (${a.error})`}
                            {a.response && <pre>{a.response}</pre>}
                          </li>
                        ))}
                      </ol>
                    </details>
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        run(() => api('POST', `/webhook-deliveries/${d.id}/replay`), 'Replay queued.')
                      }
                    >
                      Replay
                    </button>
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
