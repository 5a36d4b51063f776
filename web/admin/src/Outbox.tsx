import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { confirmAction } from './Confirm.tsx';
import { when } from './format.ts';
import { MessageFrame } from './MessageFrame.tsx';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { SystemStatus } from './SystemStatus.tsx';

/**
 * Sent and pending emails; one opened as a mail client shows it (its stored copy, code masked). An
 * invitation email's link can be opened as the invitee would: that reveals the invitation's current
 * code (GET /invitations/{id}/code, recorded in the audit trail) and opens its redemption URL.
 */
export function Outbox() {
  const [emails, setEmails] = useState<Json[]>([]);
  const [open, setOpen] = useState<Json | null>(null);
  const [link, setLink] = useState<string | null>(null);
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
      setLink(null);
      setError('');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not open the email.');
    }
  };

  const reveal = async () => {
    if (
      !(await confirmAction(
        "Reveal this invitation's link? Anyone who opens it can redeem the invitation; the reveal is recorded in the audit trail.",
      ))
    )
      return;
    try {
      setLink((await api('GET', `/invitations/${open?.invitationId}/code`)).redemptionUrl);
      setError('');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reveal the link.');
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
          {open.kind === 'invitation' && open.invitationId && (
            <div className="commands" role="toolbar" aria-label="Message actions">
              {link ? (
                <a className="button" href={link} target="_blank" rel="noreferrer noopener">
                  Open the invitation link
                </a>
              ) : (
                <button type="button" className="secondary" onClick={reveal}>
                  Reveal the invitation link
                </button>
              )}
              <a className="button secondary" href={`#/invitations/${open.invitationId}`}>
                Open the invitation
              </a>
            </div>
          )}
          {link && (
            <p className="help">
              The invitation's current link (revealed, recorded in the audit trail): <code>{link}</code>
            </p>
          )}
          {open.html ? (
            <MessageFrame title="Message" html={open.html} />
          ) : (
            <p>Not rendered yet: the message is rendered when it is delivered.</p>
          )}
        </article>
      )}
    </section>
  );
}
