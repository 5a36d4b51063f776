import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { confirmAction } from './Confirm.tsx';
import { EditInvitation } from './EditInvitation.tsx';
import { nameOf, when } from './format.ts';
import { Notices } from './Notices.tsx';
import { RunsTable } from './RunsTable.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';

/**
 * One invitation: its command bar (Send or Resend, Deactivate or Activate, Delete while never
 * redeemed), its facts, "Advanced" (reveal, copy and regenerate the code, after a confirmation,
 * then an offer to send the new one; each reveal is audited), and its timeline: emails with
 * delivery status (retry a failed one), redemptions, audit.
 */
export function InvitationPage({ id }: { id: string }) {
  const [invitation, setInvitation] = useState<Json | null>(null);
  const [emails, setEmails] = useState<Json[]>([]);
  const [redemptions, setRedemptions] = useState<Json[]>([]);
  const [audit, setAudit] = useState<Json[]>([]);
  const [code, setCode] = useState('');
  const [website, setWebsite] = useState<Json | null>(null);
  const [people, setPeople] = useState<Map<string, Json>>(new Map());

  const load = useCallback(async () => {
    const [i, e, r, a] = await Promise.all([
      api('GET', `/invitations/${id}`),
      api('GET', `/emails?invitationId=${id}&limit=100`),
      api('GET', `/invitations/${id}/redemptions?limit=100`),
      api('GET', `/audit-events?entityType=invitation&entityId=${id}&limit=100`),
    ]);
    setInvitation(i);
    setEmails(e.items);
    setRedemptions(r.items);
    setAudit(a.items);
    // Who: the website, and the contacts it names (the first 20) and who redeemed it.
    const ids = [...new Set([...i.invitedContactIds.slice(0, 20), ...r.items.map((x: Json) => x.contactId)])];
    const [w, ...contacts] = await Promise.all([
      api('GET', `/websites/${i.websiteId}`),
      ...ids.map((cid) => api('GET', `/contacts/${cid}`).catch(() => null)),
    ]);
    setWebsite(w);
    setPeople(new Map(contacts.flatMap((c: Json | null) => (c ? [[c.id, c] as [string, Json]] : []))));
  }, [id]);
  const { message, error, setError, run: act } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the invitation.'));
  }, [load, setError]);

  const reveal = () =>
    act(
      async () => setCode((await api('GET', `/invitations/${id}/code`)).code),
      'Code revealed (recorded in the audit trail).',
    );
  const regenerate = async () => {
    if (
      !(await confirmAction(
        'Regenerate the code? Every earlier code and link stops working at once, including emails already sent.',
      ))
    )
      return;
    await act(
      async () => setCode((await api('POST', `/invitations/${id}/regenerate-code`)).code),
      'A new code replaces every earlier one.',
    );
    if (
      invitation?.invitedContactIds.length > 0 &&
      (await confirmAction({ title: 'Send the new code to the invited contacts now?', confirm: 'Send now' }))
    )
      await act(
        async () => void (await api('POST', `/invitations/${id}/send`)),
        'The new code is on its way to the invited contacts.',
      );
  };
  const send = () =>
    act(
      async () => void (await api('POST', `/invitations/${id}/send`)),
      emails.length > 0 ? 'Sent again, with the same code.' : 'The invitation is on its way.',
    );
  const setActive = (active: boolean) =>
    act(
      async () => void (await api('POST', `/invitations/${id}/${active ? 'activate' : 'deactivate'}`)),
      active ? 'Activated: the code works again.' : 'Deactivated: no redemption succeeds now.',
      active ? undefined : 'Deactivate the invitation? Its code stops working until you activate it again.',
    );
  const remove = async () => {
    if (!(await confirmAction(`Delete the invitation ${invitation?.name}? This cannot be undone.`))) return;
    try {
      await api('DELETE', `/invitations/${id}`);
      location.hash = '#/invitations';
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not delete the invitation.');
    }
  };
  const copy = () => act(async () => navigator.clipboard.writeText(code), 'Code copied.');
  const save = (changes: Json) =>
    act(async () => void (await api('PATCH', `/invitations/${id}`, changes)), 'Changes saved.');
  const retry = (emailId: string) =>
    act(async () => void (await api('POST', `/emails/${emailId}/retry`)), 'The email is queued again.');

  if (!invitation) return <Notices error={error} />;
  return (
    <section>
      <p>
        <a href="#/invitations">← Invitations</a>
      </p>
      <h1>{invitation.name}</h1>
      <div className="commands" role="toolbar" aria-label="Invitation actions">
        {invitation.invitedContactIds.length > 0 && (
          <button type="button" onClick={send}>
            {emails.length > 0
              ? `Resend (${emails.length} earlier email${emails.length === 1 ? '' : 's'})`
              : 'Send'}
          </button>
        )}
        {invitation.state === 'active' ? (
          <button type="button" className="secondary" onClick={() => setActive(false)}>
            Deactivate
          </button>
        ) : (
          <button type="button" className="secondary" onClick={() => setActive(true)}>
            Activate
          </button>
        )}
        {invitation.redemptionCount === 0 && (
          <button type="button" className="secondary" onClick={remove}>
            Delete
          </button>
        )}
      </div>
      <Notices message={message} error={error} />
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          {invitation.status}
          {invitation.statusReason !== invitation.status && ` (${invitation.statusReason})`}
        </dd>
        <dt>Website</dt>
        <dd>{website ? <a href={`#/websites/${website.id}`}>{website.name}</a> : '…'}</dd>
        <dt>Invited</dt>
        <dd>
          {invitation.invitedContactIds.length === 0
            ? 'anyone with the code'
            : invitation.invitedContactIds.slice(0, 20).map((cid: string, k: number) => (
                <span key={cid}>
                  {k > 0 && ', '}
                  <a href={`#/contacts/${cid}`}>{nameOf(people.get(cid)) || cid}</a>
                </span>
              ))}
          {invitation.invitedContactIds.length > 20 &&
            ` and ${invitation.invitedContactIds.length - 20} more`}
        </dd>
        <dt>Owner (sender)</dt>
        <dd>{invitation.owner ? `${invitation.owner.name} <${invitation.owner.email}>` : '—'}</dd>
        <dt>Inviter</dt>
        <dd>
          {invitation.inviter ? (
            <a href={`#/contacts/${invitation.inviter.id}`}>{nameOf(invitation.inviter)}</a>
          ) : (
            'none'
          )}
        </dd>
        <dt>Created</dt>
        <dd>{when(invitation.createdAt)}</dd>
        <dt>Type</dt>
        <dd>{invitation.type}</dd>
        <dt>Redemptions</dt>
        <dd>
          {invitation.redemptionCount} of {invitation.maxRedemptions}
        </dd>
        <dt>Expires</dt>
        <dd>{invitation.expiresAt ? when(invitation.expiresAt) : 'never'}</dd>
      </dl>
      <EditInvitation key={invitation.updatedAt} invitation={invitation} onSave={save} onInvalid={setError} />
      <h2>Advanced</h2>
      <div className="row">
        <button type="button" onClick={reveal}>
          Reveal code
        </button>
        <button type="button" onClick={copy} disabled={!code}>
          Copy code
        </button>
        <button type="button" onClick={regenerate}>
          Regenerate code
        </button>
        {code && (
          <output aria-label="Invitation code" className="code">
            {code}
          </output>
        )}
      </div>
      <h2>Emails</h2>
      <Scroll label="Emails">
        <table>
          <thead>
            <tr>
              <th scope="col">To</th>
              <th scope="col">Status</th>
              <th scope="col">Sent</th>
              <th scope="col">Error</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {emails.map((e) => (
              <tr key={e.id}>
                <td>{e.to ?? 'no primary email'}</td>
                <td>{e.status}</td>
                <td>{when(e.sentAt)}</td>
                <td>{e.lastError ?? ''}</td>
                <td>
                  {e.status === 'failed' && (
                    <button type="button" onClick={() => retry(e.id)}>
                      Retry
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <h2>Redemptions</h2>
      <Scroll label="Redemptions">
        <table>
          <thead>
            <tr>
              <th scope="col">Contact</th>
              <th scope="col">IP address</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {redemptions.map((r) => (
              <tr key={r.id}>
                <td>
                  <a href={`#/contacts/${r.contactId}`}>{nameOf(people.get(r.contactId)) || r.contactId}</a>
                  {r.method === 'external' ? ' (identity provider)' : ''}
                </td>
                <td>{r.ipAddress ?? ''}</td>
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <RunsTable query={`invitationId=${id}`} />
      <h2>Audit trail</h2>
      <ul>
        {audit.map((a) => (
          <li key={a.id}>
            {when(a.createdAt)}: {a.summary}
            {a.actor.type === 'user'
              ? ` by ${a.actor.name ?? 'a user'}`
              : a.actor.type === 'contact'
                ? ' by the invitee'
                : ' by Admit'}
          </li>
        ))}
      </ul>
    </section>
  );
}
