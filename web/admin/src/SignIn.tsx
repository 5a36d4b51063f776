import { type FormEvent, useState } from 'react';
import { ApiError, api } from './api.ts';
import { Notices } from './Notices.tsx';

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [error, setError] = useState('');
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
  return (
    <main className="narrow">
      <h1>Sign in to Admit</h1>
      <form onSubmit={submit} noValidate>
        <Notices error={error} />
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="text" autoComplete="username" />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" />
        <button type="submit">Sign in</button>
      </form>
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
