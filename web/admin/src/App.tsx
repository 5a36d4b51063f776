import { useCallback, useEffect, useState } from 'react';
import { api, type Json, setCsrf } from './api.ts';
import { Contacts } from './Contacts.tsx';
import { InvitationPage } from './InvitationPage.tsx';
import { Invitations } from './Invitations.tsx';
import { Outbox } from './Outbox.tsx';
import { ChangePassword, SignIn } from './SignIn.tsx';
import { Users } from './Users.tsx';
import { Workflows } from './Workflows.tsx';

type Screen = 'contacts' | 'invitations' | 'workflows' | 'outbox' | 'users' | `invitation:${string}`;
const screenOf = (): Screen => {
  const m = /^#\/invitations\/([0-9a-f-]{36})$/.exec(location.hash);
  if (m) return `invitation:${m[1]}`;
  const named = location.hash.slice(2);
  return named === 'invitations' || named === 'workflows' || named === 'outbox' || named === 'users'
    ? named
    : 'contacts';
};

/** The admin console: sign-in, then the screens, chosen by the address's #fragment. */
export function App() {
  const [session, setSession] = useState<Json | null | undefined>(undefined);
  const [screen, setScreen] = useState<Screen>(screenOf());

  const refresh = useCallback(async () => {
    try {
      const s = await api('GET', '/session');
      setCsrf(s.csrfToken);
      setSession(s);
    } catch {
      setSession(null);
    }
  }, []);
  useEffect(() => {
    void refresh();
    const onHash = () => setScreen(screenOf());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [refresh]);

  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={refresh} />;
  if (session.mustChangePassword) return <ChangePassword onChanged={refresh} />;

  const signOut = async () => {
    await api('DELETE', '/session');
    setSession(null);
  };
  return (
    <>
      <header className="top">
        <span className="brand">Admit</span>
        <nav aria-label="Main">
          <a href="#/contacts" aria-current={screen === 'contacts' ? 'page' : undefined}>
            Contacts
          </a>
          <a href="#/invitations" aria-current={screen.startsWith('invitation') ? 'page' : undefined}>
            Invitations
          </a>
          <a href="#/workflows" aria-current={screen === 'workflows' ? 'page' : undefined}>
            Workflows
          </a>
          <a href="#/outbox" aria-current={screen === 'outbox' ? 'page' : undefined}>
            Outbox
          </a>
          {session.user.role === 'admin' && (
            <a href="#/users" aria-current={screen === 'users' ? 'page' : undefined}>
              Users
            </a>
          )}
        </nav>
        <span className="who">
          {session.user.name}{' '}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        {screen === 'contacts' ? (
          <Contacts />
        ) : screen === 'invitations' ? (
          <Invitations />
        ) : screen === 'workflows' ? (
          <Workflows />
        ) : screen === 'outbox' ? (
          <Outbox />
        ) : screen === 'users' ? (
          <Users />
        ) : (
          <InvitationPage id={screen.slice('invitation:'.length)} />
        )}
      </main>
    </>
  );
}
