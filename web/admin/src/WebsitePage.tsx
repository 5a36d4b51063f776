import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { IdentityProviders } from './IdentityProviders.tsx';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';
import { WebPageForm } from './WebPageForm.tsx';
import { WebsiteSettings } from './WebsiteSettings.tsx';

/** One website: its settings (each explained), its identity providers, web roles and web pages. */
export function WebsitePage({ id }: { id: string }) {
  const [website, setWebsite] = useState<Json | null>(null);
  const [roles, setRoles] = useState<Json[]>([]);
  const [pages, setPages] = useState<Json[]>([]);
  const [editing, setEditing] = useState<Json | null>(null);
  const [providers, setProviders] = useState<Json[]>([]);
  const [editingProvider, setEditingProvider] = useState<Json | null>(null);

  const load = useCallback(async () => {
    const [w, r, p, i] = await Promise.all([
      api('GET', `/websites/${id}`),
      api('GET', `/websites/${id}/web-roles?limit=200`),
      api('GET', `/websites/${id}/web-pages?limit=200`),
      api('GET', `/websites/${id}/identity-providers`),
    ]);
    setWebsite(w);
    setRoles(r.items);
    setPages(p.items);
    setProviders(i.items);
  }, [id]);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the website.'));
  }, [load, setError]);

  const addRole = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const name = String(form.get('name') ?? '').trim();
    if (!name) return setError('Enter a name for the web role.');
    const description = String(form.get('description') ?? '').trim() || null;
    void run(async () => {
      await api('POST', `/websites/${id}/web-roles`, { name, description });
      el.reset();
    }, `Added the web role ${name}.`);
  };
  const savePage = (body: Json, form: HTMLFormElement, page?: Json) =>
    run(
      async () => {
        if (page) await api('PATCH', `/web-pages/${page.id}`, body);
        else await api('POST', `/websites/${id}/web-pages`, body);
        if (page) setEditing(null);
        else form.reset();
      },
      `${page ? 'Saved' : 'Created'} the page ${body.title}.`,
    );

  if (!website) return <Notices error={error} />;
  return (
    <section>
      <p>
        <a href="#/websites">← Websites</a>
      </p>
      <h1>{website.name}</h1>
      <div className="commands" role="toolbar" aria-label="Website actions">
        <a className="button" href={website.baseUrl} target="_blank" rel="noreferrer noopener">
          Open the portal
        </a>
        <a
          className="button secondary"
          href={`/api/v1/invitations/export?websiteId=${id}`}
          download="invitations.csv"
        >
          Export its invitations
        </a>
        <a
          className="button secondary"
          href={`/api/v1/redemptions/export?websiteId=${id}`}
          download="redemptions.csv"
        >
          Export its redemptions
        </a>
      </div>
      <p>
        Portal: <a href={website.baseUrl}>{website.baseUrl}</a>
      </p>
      <Notices message={message} error={error} />
      <WebsiteSettings
        key={website.updatedAt}
        website={website}
        onInvalid={setError}
        onSave={(changes) =>
          run(async () => void (await api('PATCH', `/websites/${id}`, changes)), 'Settings saved.')
        }
      />
      <IdentityProviders
        website={website}
        providers={providers}
        editing={editingProvider}
        onEdit={setEditingProvider}
        run={run}
      />
      <h2>Web roles</h2>
      <Scroll label="Web roles">
        <table>
          <caption className="visually-hidden">Web roles</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {roles.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>{r.description ?? ''}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Delete ${r.name}`}
                    onClick={() =>
                      run(
                        async () => api('DELETE', `/web-roles/${r.id}`),
                        `Deleted the web role ${r.name}.`,
                        `Delete the web role ${r.name}?`,
                      )
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <form onSubmit={addRole} noValidate className="row">
        <label htmlFor="role-name">Role name</label>
        <input id="role-name" name="name" />
        <label htmlFor="role-description">Description</label>
        <input id="role-description" name="description" />
        <button type="submit">Add web role</button>
      </form>
      <h2>Web pages</h2>
      <Scroll label="Web pages">
        <table>
          <caption className="visually-hidden">Web pages</caption>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Title</th>
              <th scope="col">Who may read it</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {pages.map((p) => (
              <tr key={p.id}>
                <td>
                  <a href={`${website.baseUrl}/p/${p.path}`}>/p/{p.path}</a>
                </td>
                <td>{p.title}</td>
                <td>
                  {p.public
                    ? 'anyone'
                    : p.webRoleIds.length === 0
                      ? 'signed-in contacts'
                      : roles
                          .filter((r) => p.webRoleIds.includes(r.id))
                          .map((r) => r.name)
                          .join(', ')}
                </td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Edit ${p.title}`}
                    onClick={() => setEditing(p)}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Delete ${p.title}`}
                    onClick={() =>
                      run(
                        async () => api('DELETE', `/web-pages/${p.id}`),
                        `Deleted the page ${p.title}.`,
                        `Delete the page ${p.title}? Its address stops working at once.`,
                      )
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {editing && (
        <WebPageForm
          key={editing.id}
          page={editing}
          roles={roles}
          onInvalid={setError}
          onCancel={() => setEditing(null)}
          onSave={(body, form) => savePage(body, form, editing)}
        />
      )}
      <h3>New web page</h3>
      <WebPageForm roles={roles} onInvalid={setError} onSave={(body, form) => savePage(body, form)} />
    </section>
  );
}
