import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { confirmAction } from './Confirm.tsx';
import { when } from './format.ts';
import { Notices } from './Notices.tsx';
import { Pager } from './Pager.tsx';
import { Scroll } from './Scroll.tsx';

/** Accounts (the organisations contacts belong to): search and page on the server, create one. */
export function Accounts() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState<{ items: Json[]; nextCursor: string | null }>({
    items: [],
    nextCursor: null,
  });
  const [cursors, setCursors] = useState<string[]>([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const load = useCallback(async (q: string, cursor?: string) => {
    const params = new URLSearchParams({
      limit: '25',
      ...(q ? { search: q } : {}),
      ...(cursor ? { cursor } : {}),
    });
    setPage(await api('GET', `/accounts?${params}`));
  }, []);
  useEffect(() => {
    void load('');
  }, [load]);

  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const name = String(new FormData(form).get('name') ?? '').trim();
    if (!name) return setError('Enter the account’s name.');
    try {
      const account = await api('POST', '/accounts', { name });
      form.reset();
      setError('');
      setMessage(`Created ${account.name}.`);
      location.hash = `#/accounts/${account.id}`;
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not create the account.');
    }
  };

  return (
    <section>
      <h1>Accounts</h1>
      <Notices message={message} error={error} />
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          void load(search);
        }}
      >
        <label htmlFor="account-search">Search accounts</label>
        <input id="account-search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <Scroll label="Accounts">
        <table>
          <caption className="visually-hidden">Accounts</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page.items.length === 0 && (
              <tr>
                <td colSpan={2}>No account{search ? ' matches' : ' yet'}.</td>
              </tr>
            )}
            {page.items.map((a) => (
              <tr key={a.id}>
                <td>
                  <a href={`#/accounts/${a.id}`}>{a.name}</a>
                </td>
                <td>{when(a.createdAt)}</td>
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
      <form onSubmit={create} noValidate className="panel" aria-labelledby="new-account">
        <h2 id="new-account">New account</h2>
        <label htmlFor="account-name">Name</label>
        <input id="account-name" name="name" maxLength={200} />
        <div className="row">
          <button type="submit">Create account</button>
        </div>
      </form>
    </section>
  );
}

/** One account: rename or delete it, and its contacts (paged, each linking to its page), exported as CSV. */
export function AccountPage({ id }: { id: string }) {
  const [account, setAccount] = useState<Json | null>(null);
  const [count, setCount] = useState<number | null>(null);
  const [page, setPage] = useState<{ items: Json[]; nextCursor: string | null }>({
    items: [],
    nextCursor: null,
  });
  const [cursors, setCursors] = useState<string[]>([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const loadContacts = useCallback(
    async (cursor?: string) =>
      setPage(
        await api(
          'GET',
          `/contacts?${new URLSearchParams({ accountId: id, limit: '25', ...(cursor ? { cursor } : {}) })}`,
        ),
      ),
    [id],
  );
  useEffect(() => {
    Promise.all([
      api('GET', `/accounts/${id}`).then(setAccount),
      api('GET', `/contacts/count?accountId=${id}`).then((c) => setCount(c.count)),
      loadContacts(),
    ]).catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the account.'));
  }, [id, loadContacts]);

  const rename = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get('name') ?? '').trim();
    if (!name) return setError('Enter the account’s name.');
    try {
      setAccount(await api('PATCH', `/accounts/${id}`, { name }));
      setError('');
      setMessage('Renamed.');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not rename the account.');
    }
  };
  const remove = async () => {
    if (!(await confirmAction(`Delete the account ${account?.name}?`))) return;
    try {
      await api('DELETE', `/accounts/${id}`);
      location.hash = '#/accounts';
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not delete the account.');
    }
  };

  if (!account) return <Notices error={error} />;
  return (
    <section>
      <p>
        <a href="#/accounts">← Accounts</a>
      </p>
      <h1>{account.name}</h1>
      <div className="commands" role="toolbar" aria-label="Account actions">
        <a
          className="button secondary"
          href={`/api/v1/contacts/export?accountId=${id}`}
          download="contacts.csv"
        >
          Export its contacts as CSV
        </a>
        <button type="button" className="secondary" onClick={remove}>
          Delete
        </button>
      </div>
      <Notices message={message} error={error} />
      <form key={account.updatedAt} onSubmit={rename} noValidate className="row">
        <label htmlFor="account-rename">Name</label>
        <input id="account-rename" name="name" defaultValue={account.name} maxLength={200} />
        <button type="submit">Rename</button>
      </form>
      <h2>Contacts{count === null ? '' : ` (${count.toLocaleString()})`}</h2>
      <Scroll label="Contacts of the account">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
            </tr>
          </thead>
          <tbody>
            {page.items.length === 0 && (
              <tr>
                <td colSpan={2}>
                  No contact belongs to this account; choose it as a contact’s parent account.
                </td>
              </tr>
            )}
            {page.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={`#/contacts/${c.id}`}>
                    {c.firstName} {c.lastName}
                  </a>
                </td>
                <td>{c.email ?? ''}</td>
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
          void loadContacts(stack[stack.length - 1]);
        }}
      />
    </section>
  );
}
