import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { when } from './format.ts';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { useAction } from './useAction.ts';

/**
 * Users and API keys (administrators): invite users (an email with a link to choose a password),
 * change a role, disable and enable, send the link again; create keys (the secret shown once),
 * delete keys.
 */
export function Users() {
  const [users, setUsers] = useState<Json[]>([]);
  const [keys, setKeys] = useState<Json[]>([]);
  const [secret, setSecret] = useState('');

  const load = useCallback(async () => {
    setUsers((await api('GET', '/users?limit=100')).items);
    setKeys((await api('GET', '/api-keys?limit=100')).items);
  }, []);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load users.'));
  }, [load, setError]);

  const createUser = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const body = {
      name: String(form.get('name') ?? '').trim(),
      email: String(form.get('email') ?? '').trim(),
      role: String(form.get('role') ?? 'operator'),
    };
    if (!body.name || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email))
      return setError('Enter a name and an email address.');
    void run(async () => {
      await api('POST', '/users', body);
      el.reset();
    }, `Invited ${body.name}: ${body.email} gets a link to choose a password (valid a week).`);
  };

  const createKey = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const name = String(form.get('keyName') ?? '').trim();
    const userId = String(form.get('userId') ?? '');
    if (!name) return setError('Name the key (where it is used).');
    void run(
      async () => setSecret((await api('POST', '/api-keys', { name, userId })).secret),
      'Key created: copy it now, it is not shown again.',
    );
  };

  return (
    <section>
      <h1>Users and API keys</h1>
      <Notices message={message} error={error} />
      {secret && (
        <p>
          New key: <output className="code">{secret}</output>
        </p>
      )}
      <Scroll label="Users">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>{u.email}</td>
                <td>
                  <select
                    aria-label={`Role of ${u.name}`}
                    value={u.role}
                    onChange={(e) => {
                      const role = e.currentTarget.value;
                      void run(
                        () => api('PATCH', `/users/${u.id}`, { role }),
                        `${u.name} is now ${role === 'admin' ? 'an administrator' : 'an operator'}.`,
                      );
                    }}
                  >
                    <option value="operator">Operator</option>
                    <option value="admin">Administrator</option>
                  </select>
                </td>
                <td>{u.disabled ? 'disabled' : 'enabled'}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}
                    onClick={() =>
                      run(
                        () => api('PATCH', `/users/${u.id}`, { disabled: !u.disabled }),
                        `${u.disabled ? 'Enabled' : 'Disabled'} ${u.name}.`,
                        u.disabled
                          ? undefined
                          : `Disable ${u.name}? They are signed out and their API keys stop working at once.`,
                      )
                    }
                  >
                    {u.disabled ? 'Enable' : 'Disable'}
                  </button>
                  {!u.disabled && (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Send link to ${u.name}`}
                      onClick={() =>
                        run(
                          () => api('POST', `/users/${u.id}/invite`),
                          `Sent ${u.email} a link to choose a password (valid a week).`,
                        )
                      }
                    >
                      Send link
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <h2>Invite a user</h2>
      <form onSubmit={createUser} noValidate>
        <label htmlFor="uname">Name</label>
        <input id="uname" name="name" />
        <label htmlFor="uemail">Email</label>
        <input id="uemail" name="email" type="email" />
        <label htmlFor="role">Role</label>
        <select id="role" name="role" defaultValue="operator">
          <option value="operator">Operator</option>
          <option value="admin">Administrator</option>
        </select>
        <button type="submit">Invite user</button>
      </form>
      <h2>API keys</h2>
      <Scroll label="API keys">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">User</th>
              <th scope="col">Last used</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>{k.prefix}…</td>
                <td>{users.find((u) => u.id === k.userId)?.email ?? k.userId}</td>
                <td>{when(k.lastUsedAt, 'never')}</td>
                <td>
                  <button
                    type="button"
                    onClick={() =>
                      run(
                        () => api('DELETE', `/api-keys/${k.id}`),
                        `Deleted the key ${k.name}.`,
                        `Delete the key ${k.name}? Anything using it stops working at once.`,
                      )
                    }
                  >
                    Delete {k.name}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <form onSubmit={createKey} noValidate>
        <label htmlFor="keyName">Key name</label>
        <input id="keyName" name="keyName" />
        <label htmlFor="userId">For user</label>
        <select id="userId" name="userId">
          {users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.email}
            </option>
          ))}
        </select>
        <button type="submit">Create key</button>
      </form>
    </section>
  );
}
