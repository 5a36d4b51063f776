import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { Notices } from './Notices.tsx';

/** Contacts: search and page on the server, create one, invite one to a website. */
export function Contacts() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState<{ items: Json[]; nextCursor: string | null }>({
    items: [],
    nextCursor: null,
  });
  const [cursors, setCursors] = useState<string[]>([]);
  const [websites, setWebsites] = useState<Json[]>([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const load = useCallback(async (q: string, cursor?: string) => {
    const params = new URLSearchParams({
      limit: '25',
      ...(q ? { search: q } : {}),
      ...(cursor ? { cursor } : {}),
    });
    setPage(await api('GET', `/contacts?${params}`));
  }, []);
  useEffect(() => {
    void load('');
    void api('GET', '/websites?limit=100').then((w) => setWebsites(w.items));
  }, [load]);

  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const body = {
      firstName: String(form.get('firstName') ?? '').trim(),
      lastName: String(form.get('lastName') ?? '').trim(),
      email: String(form.get('email') ?? '').trim(),
    };
    if (!body.firstName || !body.lastName) return setError('Enter a first and a last name.');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email))
      return setError('Enter an email address like name@example.com.');
    try {
      await api('POST', '/contacts', body);
      setError('');
      setMessage(`Created ${body.firstName} ${body.lastName}.`);
      el.reset();
      await load(search);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not create the contact.');
    }
  };

  const invite = async (contact: Json, websiteId: string) => {
    try {
      await api('POST', '/invitations', { type: 'single', websiteId, invitedContactIds: [contact.id] });
      setError('');
      setMessage(`Created an invitation for ${contact.firstName} ${contact.lastName}.`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not create the invitation.');
    }
  };

  return (
    <section>
      <h1>Contacts</h1>
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
      <table>
        <caption className="visually-hidden">Contacts</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Create Invitation</th>
          </tr>
        </thead>
        <tbody>
          {page.items.map((c) => (
            <tr key={c.id}>
              <td>
                {c.firstName} {c.lastName}
              </td>
              <td>{c.email}</td>
              <td>
                <select
                  aria-label={`Invite ${c.firstName} ${c.lastName} to a website`}
                  defaultValue=""
                  onChange={(e) => e.target.value && void invite(c, e.target.value)}
                >
                  <option value="">Invite to…</option>
                  {websites.map((w) => (
                    <option key={w.id} value={w.id}>
                      {w.name}
                    </option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => {
            const prev = cursors.slice(0, -1);
            setCursors(prev);
            void load(search, prev[prev.length - 1]);
          }}
        >
          Previous
        </button>
        <button
          type="button"
          disabled={!page.nextCursor}
          onClick={() => {
            setCursors([...cursors, page.nextCursor as string]);
            void load(search, page.nextCursor as string);
          }}
        >
          Next
        </button>
      </div>
      <h2>New contact</h2>
      <form onSubmit={create} noValidate>
        <label htmlFor="firstName">First name</label>
        <input id="firstName" name="firstName" />
        <label htmlFor="lastName">Last name</label>
        <input id="lastName" name="lastName" />
        <label htmlFor="newEmail">Email</label>
        <input id="newEmail" name="email" type="email" />
        <button type="submit">Create contact</button>
      </form>
    </section>
  );
}
