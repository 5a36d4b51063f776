import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, isAdministrator, type Json } from './api.ts';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Websites (portals): the list, each one's portal address, and a new one. */
export function Websites() {
  const [items, setItems] = useState<Json[]>([]);
  const load = useCallback(async () => {
    setItems((await api('GET', '/websites?limit=100')).items);
  }, []);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    void load();
  }, [load]);

  const create = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const name = String(form.get('name') ?? '').trim();
    const slug = String(form.get('slug') ?? '').trim();
    if (!name) return setError('Enter a name for the website.');
    if (!SLUG.test(slug))
      return setError('The address name takes lower-case letters, digits and hyphens, e.g. partners.');
    void run(async () => {
      await api('POST', '/websites', { name, slug });
      el.reset();
    }, `Created the website ${name}.`);
  };

  return (
    <section>
      <h1>Websites</h1>
      <Notices message={message} error={error} />
      <Scroll label="Websites">
        <table>
          <caption className="visually-hidden">Websites</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Portal address</th>
            </tr>
          </thead>
          <tbody>
            {items.map((w) => (
              <tr key={w.id}>
                <td>
                  <a href={`#/websites/${w.id}`}>{w.name}</a>
                </td>
                <td>{w.baseUrl}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {isAdministrator() && (
        <>
          <h2>New website</h2>
          <form onSubmit={create} noValidate>
            <label htmlFor="website-name">Name</label>
            <input id="website-name" name="name" />
            <label htmlFor="website-slug">Address name (used in the portal's address)</label>
            <input id="website-slug" name="slug" placeholder="partners" />
            <button type="submit">Create website</button>
          </form>
        </>
      )}
    </section>
  );
}
