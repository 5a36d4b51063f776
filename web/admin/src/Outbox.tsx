import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { when } from './format.ts';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { SystemStatus } from './SystemStatus.tsx';

/** Sent and pending emails; one opened as a mail client shows it (its stored copy, code masked). */
export function Outbox() {
  const [emails, setEmails] = useState<Json[]>([]);
  const [open, setOpen] = useState<Json | null>(null);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    setEmails((await api('GET', '/emails?limit=100')).items);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const show = async (id: string) => {
    try {
      setOpen(await api('GET', `/emails/${id}`));
      setError('');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not open the email.');
    }
  };

  return (
    <section>
      <h1>Outbox</h1>
      <SystemStatus />
      <Notices error={error} />
      <Scroll label="Messages">
        <table>
          <thead>
            <tr>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
              <th scope="col">Sent</th>
            </tr>
          </thead>
          <tbody>
            {emails.map((e) => (
              <tr key={e.id}>
                <td>{e.to ?? 'no primary email'}</td>
                <td>
                  <button type="button" className="link dark" onClick={() => show(e.id)}>
                    {e.subject ?? '(not rendered yet)'}
                  </button>
                </td>
                <td>{e.status}</td>
                <td>{when(e.sentAt, '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {open && (
        <article aria-label="Message">
          <dl className="facts">
            <dt>From</dt>
            <dd>{open.from}</dd>
            <dt>To</dt>
            <dd>{open.to}</dd>
            <dt>Subject</dt>
            <dd>{open.subject}</dd>
            <dt>Message-ID</dt>
            <dd>{open.messageId}</dd>
          </dl>
          {open.html ? (
            <iframe title="Message" sandbox="" srcDoc={open.html} className="preview" />
          ) : (
            <p>Not rendered yet: the message is rendered when it is delivered.</p>
          )}
        </article>
      )}
    </section>
  );
}
