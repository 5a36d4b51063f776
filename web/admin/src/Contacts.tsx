import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { InvitationForm } from './InvitationForm.tsx';
import { Notices } from './Notices.tsx';

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

  const isSelected = (c: Json) => selected.some((x) => x.id === c.id);
  const toggle = (c: Json) =>
    setSelected(isSelected(c) ? selected.filter((x) => x.id !== c.id) : [...selected, c]);
  const invited = (summary: string) => {
    setInviting(null);
    setSelected([]);
    setError('');
    setMessage(summary);
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
      <div className="row">
        <button type="button" disabled={selected.length === 0} onClick={() => setInviting(selected)}>
          Create Invitation for {selected.length} selected
        </button>
      </div>
      {inviting && <InvitationForm contacts={inviting} onDone={invited} />}
      <table>
        <caption className="visually-hidden">Contacts</caption>
        <thead>
          <tr>
            <th scope="col">Select</th>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Invitation</th>
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
              <td>
                <button type="button" onClick={() => setInviting([c])}>
                  Invite {c.firstName} {c.lastName}
                </button>
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
