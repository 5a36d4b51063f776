import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { confirmAction } from './Confirm.tsx';
import { ContactForm } from './ContactForm.tsx';
import { nameOf, when } from './format.ts';
import { InvitationForm } from './InvitationForm.tsx';
import { Notices } from './Notices.tsx';
import { PortalAccess } from './PortalAccess.tsx';
import { RunsTable } from './RunsTable.tsx';
import { RunWorkflow } from './RunWorkflow.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';

/**
 * One contact: a command bar (Create Invitation, Run workflow, Delete), its details to edit, its
 * portal access per website, and its history: invitations (invited or redeemed), emails,
 * redemptions and workflow runs, newest first.
 */
export function ContactPage({ id }: { id: string }) {
  const [contact, setContact] = useState<Json | null>(null);
  const [account, setAccount] = useState<Json | null>(null);
  const [invitations, setInvitations] = useState<Json[]>([]);
  const [emails, setEmails] = useState<Json[]>([]);
  const [redemptions, setRedemptions] = useState<Json[]>([]);
  const [inviting, setInviting] = useState(false);

  const load = useCallback(async () => {
    const [c, i, e, r] = await Promise.all([
      api('GET', `/contacts/${id}`),
      api('GET', `/invitations?contactId=${id}&limit=100`),
      api('GET', `/emails?contactId=${id}&limit=100`),
      api('GET', `/redemptions?contactId=${id}&limit=100`),
    ]);
    setContact(c);
    setInvitations(i.items);
    setEmails(e.items);
    setRedemptions(r.items);
    setAccount(
      c.parentAccountId ? await api('GET', `/accounts/${c.parentAccountId}`).catch(() => null) : null,
    );
  }, [id]);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the contact.'));
  }, [load, setError]);

  const byId = new Map(invitations.map((i) => [i.id, i]));
  const save = (body: Json) =>
    run(async () => void (await api('PATCH', `/contacts/${id}`, body)), 'Changes saved.');
  const remove = async () => {
    if (!(await confirmAction(`Delete ${nameOf(contact)}? This cannot be undone.`))) return;
    try {
      await api('DELETE', `/contacts/${id}`);
      location.hash = '#/contacts';
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not delete the contact.');
    }
  };

  if (!contact) return <Notices error={error} />;
  const name = `${contact.firstName} ${contact.lastName}`;
  return (
    <section>
      <p>
        <a href="#/contacts">← Contacts</a>
      </p>
      <h1>{name}</h1>
      <div className="commands" role="toolbar" aria-label="Contact actions">
        <button type="button" onClick={() => setInviting(true)}>
          Create Invitation
        </button>
        <RunWorkflow contacts={[contact]} onDone={(m) => run(async () => undefined, m)} onError={setError} />
        <button type="button" className="secondary" onClick={remove}>
          Delete
        </button>
      </div>
      <Notices message={message} error={error} />
      <dl className="facts">
        <dt>Email</dt>
        <dd>{contact.email ?? 'none'}</dd>
        <dt>Account</dt>
        <dd>{account ? <a href={`#/accounts/${account.id}`}>{account.name}</a> : 'none'}</dd>
        <dt>Username</dt>
        <dd>{contact.username ?? 'not registered'}</dd>
        <dt>Created</dt>
        <dd>{when(contact.createdAt)}</dd>
      </dl>
      {inviting && (
        <InvitationForm
          contacts={[contact]}
          onDone={(summary) => {
            setInviting(false);
            void run(async () => undefined, summary);
          }}
        />
      )}
      <h2>Invitations</h2>
      <Scroll label="Invitations of the contact">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Role here</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {invitations.length === 0 && (
              <tr>
                <td colSpan={4}>No invitation names this contact yet.</td>
              </tr>
            )}
            {invitations.map((i) => (
              <tr key={i.id}>
                <td>
                  <a href={`#/invitations/${i.id}`}>{i.name}</a>
                </td>
                <td>{i.status}</td>
                <td>{i.redeemedContactIds.includes(id) ? 'redeemed it' : 'invited'}</td>
                <td>{when(i.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <h2>Emails</h2>
      <Scroll label="Emails to the contact">
        <table>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Sent</th>
            </tr>
          </thead>
          <tbody>
            {emails.length === 0 && (
              <tr>
                <td colSpan={4}>No email yet.</td>
              </tr>
            )}
            {emails.map((e) => (
              <tr key={e.id}>
                <td>{e.subject ?? ''}</td>
                <td>{e.kind}</td>
                <td>
                  {e.status}
                  {e.lastError ? `: ${e.lastError}` : ''}
                </td>
                <td>{when(e.sentAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <h2>Redemptions</h2>
      <Scroll label="Redemptions by the contact">
        <table>
          <thead>
            <tr>
              <th scope="col">Invitation</th>
              <th scope="col">How</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {redemptions.length === 0 && (
              <tr>
                <td colSpan={3}>Nothing redeemed yet.</td>
              </tr>
            )}
            {redemptions.map((r) => (
              <tr key={r.id}>
                <td>
                  <a href={`#/invitations/${r.invitationId}`}>
                    {byId.get(r.invitationId)?.name ?? 'Invitation'}
                  </a>
                </td>
                <td>
                  {r.method === 'external'
                    ? 'with an identity provider'
                    : r.method === 'register'
                      ? 'registered'
                      : 'signed in'}
                </td>
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <PortalAccess contact={contact} />
      <RunsTable query={`contactId=${id}`} title={`Workflow runs of ${name}`} />
      <ContactForm
        key={contact.updatedAt}
        contact={contact}
        onSave={(body) => save(body)}
        onInvalid={setError}
      />
    </section>
  );
}
