import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { ContactForm } from './ContactForm.tsx';
import { ImportContacts } from './ImportContacts.tsx';
import { InvitationForm } from './InvitationForm.tsx';
import { Notices } from './Notices.tsx';
import { OperationProgress } from './OperationProgress.tsx';
import { Pager } from './Pager.tsx';
import { RunWorkflow } from './RunWorkflow.tsx';
import { Scroll } from './Scroll.tsx';
import { type Sort, SortSelect } from './SortSelect.tsx';

/**
 * Contacts: search and page on the server; select some, a page, or every contact matching the
 * search, and invite them (or run a workflow on them); create or import contacts. Each name opens
 * the contact's page.
 */
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
  /** How many contacts match the search, over every page (for "select all matching"). */
  const [total, setTotal] = useState<number | null>(null);
  /** Every contact matching `searched` is selected, not only those ticked. */
  const [allMatching, setAllMatching] = useState(false);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const [sort, setSort] = useState<Sort>('newest');
  /** The search the page shown was loaded with. */
  const loaded = useRef<string | null>(null);
  const load = useCallback(
    async (q: string, cursor?: string) => {
      const params = new URLSearchParams({
        limit: '25',
        sort,
        ...(q ? { search: q } : {}),
        ...(cursor ? { cursor } : {}),
      });
      const counted = new URLSearchParams(q ? { search: q } : {});
      const [p, c] = await Promise.all([
        api<{ items: Json[]; nextCursor: string | null }>('GET', `/contacts?${params}`),
        api('GET', `/contacts/count?${counted}`),
      ]);
      // Another search is another selection: "all matching" always means the search shown.
      if (loaded.current !== q) {
        setSelected([]);
        setAllMatching(false);
      }
      loaded.current = q;
      setPage(p);
      setTotal(c.count);
      setSearched(q);
    },
    [sort],
  );
  // The first page: at the start, and in the new order when the sort changes (same search).
  // biome-ignore lint/correctness/useExhaustiveDependencies: the search shown stays as it was
  useEffect(() => {
    setCursors([]);
    void load(searched);
  }, [load]);

  const save = async (body: Json, form: HTMLFormElement) => {
    try {
      await api('POST', '/contacts', body);
      setError('');
      setMessage(`Created ${body.firstName} ${body.lastName}.`);
      form.reset();
      await load(searched, cursors[cursors.length - 1]);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not save the contact.');
    }
  };

  const isSelected = (c: Json) => selected.some((x) => x.id === c.id);
  const toggle = (c: Json) => {
    setAllMatching(false);
    setSelected(isSelected(c) ? selected.filter((x) => x.id !== c.id) : [...selected, c]);
  };
  const pageSelected = page.items.length > 0 && page.items.every(isSelected);
  const togglePage = () => {
    setAllMatching(false);
    setSelected(
      pageSelected
        ? selected.filter((x) => !page.items.some((c) => c.id === x.id))
        : [...selected, ...page.items.filter((c) => !isSelected(c))],
    );
  };
  const chosen = allMatching ? (total ?? 0) : selected.length;
  const invited = (summary: string, op?: Json) => {
    setInviting(null);
    setInvitingMatching(null);
    setSelected([]);
    setAllMatching(false);
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
        <SortSelect id="contacts-sort" value={sort} onChange={setSort} />
      </form>
      {pageSelected && !allMatching && total !== null && total > page.items.length && (
        <p className="notice warning" role="status">
          All {page.items.length} contacts on this page are selected.{' '}
          <button type="button" className="link" onClick={() => setAllMatching(true)}>
            Select all {total.toLocaleString()} contacts{searched ? ` matching “${searched}”` : ''}
          </button>
        </p>
      )}
      {allMatching && (
        <p className="notice warning" role="status">
          All {(total ?? 0).toLocaleString()} contacts{searched ? ` matching “${searched}”` : ''} are
          selected.{' '}
          <button
            type="button"
            className="link"
            onClick={() => {
              setAllMatching(false);
              setSelected([]);
            }}
          >
            Clear the selection
          </button>
        </p>
      )}
      <div className="commands" role="toolbar" aria-label="Actions on the selected contacts">
        <button
          type="button"
          disabled={chosen === 0}
          onClick={() => {
            if (allMatching) {
              setInviting(null);
              setInvitingMatching(searched);
            } else {
              setInvitingMatching(null);
              setInviting(selected);
            }
          }}
        >
          Create Invitation for {chosen.toLocaleString()} selected
        </button>
        {!allMatching && (
          <RunWorkflow
            contacts={selected}
            onDone={(summary) => {
              setSelected([]);
              setError('');
              setMessage(summary);
            }}
            onError={setError}
          />
        )}
      </div>
      {inviting && <InvitationForm contacts={inviting} onDone={invited} />}
      {invitingMatching !== null && (
        <InvitationForm contacts={[]} matching={invitingMatching} onDone={invited} />
      )}
      {operation && <OperationProgress key={operation.id} operation={operation} />}
      <Scroll label="Contacts">
        <table>
          <caption className="visually-hidden">Contacts</caption>
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select every contact on this page"
                  checked={pageSelected || allMatching}
                  onChange={togglePage}
                  disabled={page.items.length === 0}
                />
              </th>
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
                    checked={allMatching || isSelected(c)}
                    onChange={() => toggle(c)}
                  />
                </td>
                <td>
                  <a href={`#/contacts/${c.id}`}>
                    {c.firstName} {c.lastName}
                  </a>
                </td>
                <td>{c.email}</td>
                <td className="actions">
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
          void load(searched, stack[stack.length - 1]);
        }}
      />
      <h2>New contact</h2>
      <ContactForm onSave={save} onInvalid={setError} />
      <ImportContacts onImported={() => void load(searched)} />
    </section>
  );
}
