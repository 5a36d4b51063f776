import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { when } from './format.ts';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';

/** The event types an endpoint may ask for (the API's list), `*` first. */
export const EVENT_TYPES = [
  'invitation.created',
  'invitation.sent',
  'invitation.redeemed',
  'invitation.deactivated',
  'invitation.activated',
  'invitation.code_regenerated',
  'invitation.deleted',
  'email.failed',
  'contact.registered',
  'workflow_run.succeeded',
  'workflow_run.failed',
];

/** Checkboxes of event types: every event, or the ones ticked. */
export function EventTypeChoice({ initial }: { initial?: string[] }) {
  const [all, setAll] = useState(initial ? initial.includes('*') : true);
  return (
    <fieldset>
      <legend>Events to send</legend>
      <label className="check">
        <input
          type="checkbox"
          name="eventTypes"
          value="*"
          checked={all}
          onChange={(e) => setAll(e.target.checked)}
        />{' '}
        Every event
      </label>
      {!all &&
        EVENT_TYPES.map((t) => (
          <label key={t} className="check">
            <input type="checkbox" name="eventTypes" value={t} defaultChecked={initial?.includes(t)} /> {t}
          </label>
        ))}
    </fieldset>
  );
}

/** A secret shown once, with what to do with it. */
export function SecretOnce({ secret }: { secret: string }) {
  return (
    <div className="notice" role="status">
      <p>
        The signing secret, shown this once: keep it where the receiver verifies signatures (Standard
        Webhooks).
      </p>
      <p>
        <code>{secret}</code>
      </p>
    </div>
  );
}

/** Webhook endpoints: the list, and a new endpoint (its secret shown once). */
export function Webhooks() {
  const [endpoints, setEndpoints] = useState<Json[]>([]);
  const [secret, setSecret] = useState('');
  const load = useCallback(
    async () => setEndpoints((await api('GET', '/webhook-endpoints?limit=500')).items),
    [],
  );
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the endpoints.'));
  }, [load, setError]);

  const create = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const body = {
      url: String(form.get('url') ?? '').trim(),
      description: String(form.get('description') ?? '').trim() || null,
      eventTypes: form.getAll('eventTypes').map(String),
    };
    if (!body.url) return setError('The URL is required.');
    if (body.eventTypes.length === 0) return setError('Choose at least one event.');
    const target = e.currentTarget;
    void run(async () => {
      const made = await api('POST', '/webhook-endpoints', body);
      setSecret(made.secret);
      target.reset();
    }, 'Endpoint created.');
  };

  return (
    <section>
      <h1>Webhooks</h1>
      <Notices message={message} error={error} />
      {secret && <SecretOnce secret={secret} />}
      <Scroll label="Webhook endpoints">
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((e) => (
              <tr key={e.id}>
                <td>
                  <a href={`#/webhooks/${e.id}`}>{e.url}</a>
                  {e.description && <div className="hint">{e.description}</div>}
                </td>
                <td>{e.eventTypes.includes('*') ? 'Every event' : e.eventTypes.join(', ')}</td>
                <td>
                  {e.enabled
                    ? e.failingSince
                      ? `Failing since ${when(e.failingSince)}`
                      : 'Enabled'
                    : 'Disabled'}
                  {e.disabledReason && <div className="hint">{e.disabledReason}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <h2>New endpoint</h2>
      <form onSubmit={create} noValidate>
        <label htmlFor="wh-url">URL (https)</label>
        <input id="wh-url" name="url" placeholder="https://crm.example.com/admit-events" />
        <label htmlFor="wh-description">Description</label>
        <input id="wh-description" name="description" />
        <EventTypeChoice />
        <button type="submit">Create endpoint</button>
      </form>
    </section>
  );
}
