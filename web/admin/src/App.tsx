import { useCallback, useEffect, useState } from 'react';
import { AccountPage, Accounts } from './Accounts.tsx';
import { api, type Json, setAdministrator, setCsrf } from './api.ts';
import { ConfirmHost } from './Confirm.tsx';
import { ContactPage } from './ContactPage.tsx';
import { Contacts } from './Contacts.tsx';
import { Dashboard } from './Dashboard.tsx';
import { InvitationPage } from './InvitationPage.tsx';
import { Invitations } from './Invitations.tsx';
import { Outbox } from './Outbox.tsx';
import { ChangePassword, SetPassword, SignIn } from './SignIn.tsx';
import { Users } from './Users.tsx';
import { WebhookPage } from './WebhookPage.tsx';
import { Webhooks } from './Webhooks.tsx';
import { WebsitePage } from './WebsitePage.tsx';
import { Websites } from './Websites.tsx';
import { WorkflowPage } from './WorkflowPage.tsx';
import { Workflows } from './Workflows.tsx';

const NAMED = [
  'dashboard',
  'contacts',
  'accounts',
  'invitations',
  'websites',
  'workflows',
  'webhooks',
  'outbox',
  'users',
] as const;
type Named = (typeof NAMED)[number];
type RecordKind = 'invitation' | 'website' | 'workflow' | 'webhook' | 'contact' | 'account';
type Screen = Named | `${RecordKind}:${string}`;

const screenOf = (): Screen => {
  if (location.hash === '#/workflows/new') return 'workflow:new';
  const m = /^#\/(invitation|website|workflow|webhook|contact|account)s\/([0-9a-f-]{36})$/.exec(
    location.hash,
  );
  if (m) return `${m[1] as RecordKind}:${m[2]}`;
  const named = location.hash.slice(2);
  return (NAMED as readonly string[]).includes(named) ? (named as Named) : 'dashboard';
};

const LABELS: Record<Named, string> = {
  dashboard: 'Dashboard',
  contacts: 'Contacts',
  accounts: 'Accounts',
  invitations: 'Invitations',
  websites: 'Websites',
  workflows: 'Workflows',
  webhooks: 'Webhooks',
  outbox: 'Outbox',
  users: 'Users',
};

/** The admin console: sign-in, then the screens, chosen by the address's #fragment. */
export function App() {
  const [session, setSession] = useState<Json | null | undefined>(undefined);
  const [screen, setScreen] = useState<Screen>(screenOf());
  // An emailed link (#/set-password/{token}) opens its own page, signed in or not.
  const [linkToken, setLinkToken] = useState<string | null>(
    () => /^#\/set-password\/([^/]+)$/.exec(location.hash)?.[1] ?? null,
  );

  const refresh = useCallback(async () => {
    try {
      const s = await api('GET', '/session');
      setCsrf(s.csrfToken);
      setAdministrator(s.user.role === 'admin');
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

  if (linkToken)
    return (
      <SetPassword
        token={linkToken}
        onDone={() => {
          history.replaceState(null, '', location.pathname);
          setLinkToken(null);
          void refresh();
        }}
      />
    );
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
          {NAMED.filter((n) => n !== 'users' || session.user.role === 'admin').map((n) => (
            <a
              key={n}
              href={`#/${n}`}
              aria-current={screen === n || screen.startsWith(`${n.slice(0, -1)}:`) ? 'page' : undefined}
            >
              {LABELS[n]}
            </a>
          ))}
        </nav>
        <span className="who">
          {session.user.name}{' '}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <ScreenView screen={screen} />
      </main>
      <ConfirmHost />
    </>
  );
}

function ScreenView({ screen }: { screen: Screen }) {
  if (screen.startsWith('invitation:')) return <InvitationPage id={screen.slice('invitation:'.length)} />;
  if (screen.startsWith('website:')) return <WebsitePage id={screen.slice('website:'.length)} />;
  if (screen.startsWith('workflow:')) {
    const id = screen.slice('workflow:'.length);
    return <WorkflowPage key={id} id={id === 'new' ? null : id} />;
  }
  if (screen.startsWith('webhook:')) return <WebhookPage id={screen.slice('webhook:'.length)} />;
  if (screen.startsWith('contact:')) {
    const id = screen.slice('contact:'.length);
    return <ContactPage key={id} id={id} />;
  }
  if (screen.startsWith('account:')) {
    const id = screen.slice('account:'.length);
    return <AccountPage key={id} id={id} />;
  }
  switch (screen) {
    case 'contacts':
      return <Contacts />;
    case 'accounts':
      return <Accounts />;
    case 'invitations':
      return <Invitations />;
    case 'websites':
      return <Websites />;
    case 'workflows':
      return <Workflows />;
    case 'webhooks':
      return <Webhooks />;
    case 'outbox':
      return <Outbox />;
    case 'users':
      return <Users />;
    default:
      return <Dashboard />;
  }
}
