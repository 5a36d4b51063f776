import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { Notices } from './Notices.tsx';

const VIEWS = [
  ['new', 'New'],
  ['sent', 'Sent'],
  ['redeemed', 'Redeemed'],
  ['expired', 'Expired'],
  ['inactive', 'Inactive'],
] as const;

/** Invitations by view; select some, then "Send Invitation" after a confirmation that says how many. */
export function Invitations() {
  const [view, setView] = useState<string>('new');
  const [items, setItems] = useState<Json[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);

  const load = useCallback(async (status: string) => {
    setItems((await api('GET', `/invitations?status=${status}&limit=100`)).items);
    setSelected(new Set());
  }, []);
  useEffect(() => {
    void load(view);
  }, [load, view]);

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  const send = async () => {
    dialog.current?.close();
    try {
      const res = await api<Json[] | Json>('POST', '/invitations/send', { ids: [...selected] });
      const results = (Array.isArray(res) ? res : res.items) as Json[];
      const queued = results.filter((r) => r.status === 'queued').length;
      setError('');
      setMessage(`${queued} of ${results.length} invitations queued for sending.`);
      await load(view);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not send.');
    }
  };

  return (
    <section>
      <h1>Invitations</h1>
      <div className="tabs" role="tablist" aria-label="Views">
        {VIEWS.map(([key, label]) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={view === key}
            onClick={() => (key === view ? void load(view) : setView(key))}
          >
            {label}
          </button>
        ))}
      </div>
      <Notices message={message} error={error} />
      <div className="row">
        <button type="button" disabled={selected.size === 0} onClick={() => dialog.current?.showModal()}>
          Send Invitation
        </button>
        <span>{selected.size} selected</span>
      </div>
      <table>
        <caption className="visually-hidden">Invitations</caption>
        <thead>
          <tr>
            <th scope="col">Select</th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select ${i.name}`}
                  checked={selected.has(i.id)}
                  onChange={() => toggle(i.id)}
                />
              </td>
              <td>
                <a href={`#/invitations/${i.id}`}>{i.name}</a>
              </td>
              <td>{i.type}</td>
              <td>{i.status}</td>
              <td>{i.expiresAt ? new Date(i.expiresAt).toLocaleString() : 'never'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <dialog ref={dialog} aria-labelledby="send-title">
        <h2 id="send-title">Send {selected.size === 1 ? '1 invitation' : `${selected.size} invitations`}?</h2>
        <p>Each invited contact gets an email with the invitation's code.</p>
        <div className="row">
          <button type="button" onClick={send}>
            Send
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
