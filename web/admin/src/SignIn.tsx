import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { Notices } from './Notices.tsx';

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [error, setError] = useState('');
  const [forgot, setForgot] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = String(form.get('email') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (!email || !password) return setError('Enter your email and password.');
    try {
      await api('POST', '/session', { email, password });
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not sign in.');
    }
  };
  if (forgot) return <ForgotPassword onBack={() => setForgot(false)} />;
  return (
    <main className="narrow">
      <h1>Sign in to Admit</h1>
      <form onSubmit={submit} noValidate>
        <Notices error={error} />
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="text" autoComplete="username" />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" />
        <div className="row">
          <button type="submit">Sign in</button>
          <button type="button" className="link" onClick={() => setForgot(true)}>
            Forgot your password?
          </button>
        </div>
      </form>
    </main>
  );
}

/** "Forgot your password?": a reset link by email; the answer does not say whether the user exists. */
function ForgotPassword({ onBack }: { onBack: () => void }) {
  const [error, setError] = useState('');
  const [sentTo, setSentTo] = useState('');
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const email = String(new FormData(e.currentTarget).get('email') ?? '').trim();
    if (!email) return setError('Enter the email you sign in with.');
    try {
      await api('POST', '/session/forgot-password', { email });
      setError('');
      setSentTo(email);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not send the link.');
    }
  };
  return (
    <main className="narrow">
      <h1>Forgot your password?</h1>
      {sentTo ? (
        <p role="status">
          If a user signs in with {sentTo}, we have sent a link to choose a new password. It works for an
          hour. Locked out with no email? On the server, run{' '}
          <code>npm run admit -- users reset-password --email {sentTo}</code>.
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <Notices error={error} />
          <label htmlFor="forgot-email">Email</label>
          <input id="forgot-email" name="email" type="email" autoComplete="username" />
          <button type="submit">Send me a link</button>
        </form>
      )}
      <p>
        <button type="button" className="link" onClick={onBack}>
          Back to sign in
        </button>
      </p>
    </main>
  );
}

/**
 * The page of an emailed link (an invitation to the console or a password reset): says for whom,
 * and sets the password once. The token is in the address's fragment, which is never sent to a server.
 */
export function SetPassword({ token, onDone }: { token: string; onDone: () => void }) {
  const [link, setLink] = useState<Json | null | undefined>(undefined);
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  useEffect(() => {
    api('POST', '/session/link', { token })
      .then(setLink)
      .catch((err) => {
        setLink(null);
        setError(err instanceof ApiError ? err.message : 'This link does not work.');
      });
  }, [token]);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const password = String(form.get('next') ?? '');
    if (password.length < 8) return setError('Use at least 8 characters.');
    if (password !== String(form.get('confirm') ?? '')) return setError('The passwords do not match.');
    try {
      await api('POST', '/session/set-password', { token, password });
      setDone(true);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not set the password.');
    }
  };
  if (link === undefined) return <p className="loading">Loading…</p>;
  return (
    <main className="narrow">
      <h1>{link?.purpose === 'invite' ? 'Welcome to Admit' : 'Choose a new password'}</h1>
      {done ? (
        <>
          <p role="status">Your password is set. Sign in with {link?.email} and it.</p>
          <button type="button" onClick={onDone}>
            Sign in
          </button>
        </>
      ) : link === null ? (
        <>
          <Notices error={error} />
          <button type="button" onClick={onDone}>
            Back to sign in
          </button>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>
            {link.name}, choose the password you will sign in with as {link.email}.
          </p>
          <Notices error={error} />
          <input type="hidden" name="username" autoComplete="username" value={link.email} />
          <label htmlFor="next">New password</label>
          <input id="next" name="next" type="password" autoComplete="new-password" />
          <label htmlFor="confirm">Confirm the password</label>
          <input id="confirm" name="confirm" type="password" autoComplete="new-password" />
          <button type="submit">Set my password</button>
        </form>
      )}
    </main>
  );
}

export function ChangePassword({ onChanged }: { onChanged: () => void }) {
  const [error, setError] = useState('');
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const currentPassword = String(form.get('current') ?? '');
    const newPassword = String(form.get('next') ?? '');
    if (newPassword.length < 8) return setError('Use at least 8 characters.');
    if (newPassword !== String(form.get('confirm') ?? '')) return setError('The new passwords do not match.');
    try {
      await api('POST', '/session/password', { currentPassword, newPassword });
      onChanged();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not change the password.');
    }
  };
  return (
    <main className="narrow">
      <h1>Choose a new password</h1>
      <p>Your password was generated for the first sign-in. Choose your own to continue.</p>
      <form onSubmit={submit} noValidate>
        <Notices error={error} />
        <label htmlFor="current">Current password</label>
        <input id="current" name="current" type="password" autoComplete="current-password" />
        <label htmlFor="next">New password</label>
        <input id="next" name="next" type="password" autoComplete="new-password" />
        <label htmlFor="confirm">Confirm new password</label>
        <input id="confirm" name="confirm" type="password" autoComplete="new-password" />
        <button type="submit">Save password</button>
      </form>
    </main>
  );
}
