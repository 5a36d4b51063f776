import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { ContactForm } from './ContactForm.tsx';
import { ImportContacts } from './ImportContacts.tsx';
import { InvitationForm } from './InvitationForm.tsx';
import { Notices } from './Notices.tsx';
import { OperationProgress } from './OperationProgress.tsx';
import { Pager } from './Pager.tsx';
import { PortalAccess } from './PortalAccess.tsx';
import { RunsTable } from './RunsTable.tsx';
import { RunWorkflow } from './RunWorkflow.tsx';
import { Scroll } from './Scroll.tsx';

/** Contacts: search and page on the server, create one, invite one to a website. */
export function Contacts() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState<{ items: Json[]; nextCursor: string | null }>({
    items: [],
    nextCursor: null,
  });
  const [cursors, setCursors] = useState<string[]>([]);
  const [selected, setSelected] = useState<Json[]>([]);
  const [inviting, setInviting] = useState<Json[] | null>(null);
  /** The search whose every contact is being invited (a bulk operation), when that form is open. */
  const [invitingMatching, setInvitingMatching] = useState<string | null>(null);
  const [searched, setSearched] = useState('');
  const [operation, setOperation] = useState<Json | null>(null);
  const [editing, setEditing] = useState<Json | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const load = useCallback(async (q: string, cursor?: string) => {
    const params = new URLSearchParams({
      limit: '25',
      ...(q ? { search: q } : {}),
      ...(cursor ? { cursor } : {}),
    });
    setPage(await api('GET', `/contacts?${params}`));
    setSearched(q);
  }, []);
  useEffect(() => {
    void load('');
  }, [load]);

  const save = async (body: Json, form: HTMLFormElement, contact?: Json) => {
    try {
      if (contact) await api('PATCH', `/contacts/${contact.id}`, body);
      else await api('POST', '/contacts', body);
      setError('');
      setMessage(`${contact ? 'Saved' : 'Created'} ${body.firstName} ${body.lastName}.`);
      if (contact) setEditing(null);
      else form.reset();
      await load(search, cursors[cursors.length - 1]);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not save the contact.');
    }
  };

  const isSelected = (c: Json) => selected.some((x) => x.id === c.id);
  const toggle = (c: Json) =>
    setSelected(isSelected(c) ? selected.filter((x) => x.id !== c.id) : [...selected, c]);
  const invited = (summary: string, op?: Json) => {
    setInviting(null);
    setInvitingMatching(null);
    setSelected([]);
    setError('');
    setMessage(summary);
    if (op) setOperation(op);
  };

  return (
    <section>
      <h1>Contacts</h1>
      <p>
        <a
          href={`/api/v1/contacts/export${searched ? `?${new URLSearchParams({ search: searched })}` : ''}`}
          download="contacts.csv"
        >
          {searched ? `Export the contacts matching “${searched}” as CSV` : 'Export all contacts as CSV'}
        </a>
      </p>
      <Notices message={message} error={error} />
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          void load(search);
        }}
      >
        <label htmlFor="search">Search contacts</label>
        <input id="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <div className="row">
        <button type="button" disabled={selected.length === 0} onClick={() => setInviting(selected)}>
          Create Invitation for {selected.length} selected
        </button>
        <RunWorkflow
          contacts={selected}
          onDone={(summary) => {
            setSelected([]);
            setError('');
            setMessage(summary);
          }}
          onError={setError}
        />
        <button
          type="button"
          disabled={page.items.length === 0}
          onClick={() => {
            setInviting(null);
            setInvitingMatching(searched);
          }}
        >
          {searched ? `Invite all matching “${searched}”` : 'Invite all contacts'}
        </button>
      </div>
      {inviting && <InvitationForm contacts={inviting} onDone={invited} />}
      {invitingMatching !== null && (
        <InvitationForm contacts={[]} matching={invitingMatching} onDone={invited} />
      )}
      {operation && <OperationProgress key={operation.id} operation={operation} />}
      {editing && (
        <>
          <ContactForm
            key={editing.id}
            contact={editing}
            onSave={(body, form) => save(body, form, editing)}
            onInvalid={setError}
            onCancel={() => setEditing(null)}
          />
          <PortalAccess key={`access-${editing.id}`} contact={editing} />
          <RunsTable
            key={`runs-${editing.id}`}
            query={`contactId=${editing.id}`}
            title={`Workflow runs of ${editing.firstName} ${editing.lastName}`}
          />
        </>
      )}
      <Scroll label="Contacts">
        <table>
          <caption className="visually-hidden">Contacts</caption>
          <thead>
            <tr>
              <th scope="col">Select</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${c.firstName} ${c.lastName}`}
                    checked={isSelected(c)}
                    onChange={() => toggle(c)}
                  />
                </td>
                <td>
                  {c.firstName} {c.lastName}
                </td>
                <td>{c.email}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Edit ${c.firstName} ${c.lastName}`}
                    onClick={() => setEditing(c)}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Invite ${c.firstName} ${c.lastName}`}
                    onClick={() => setInviting([c])}
                  >
                    Invite
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <Pager
        cursors={cursors}
        nextCursor={page.nextCursor}
        onMove={(stack) => {
          setCursors(stack);
          void load(search, stack[stack.length - 1]);
        }}
      />
      <h2>New contact</h2>
      <ContactForm onSave={(body, form) => save(body, form)} onInvalid={setError} />
      <ImportContacts onImported={() => void load(search)} />
    </section>
  );
}
