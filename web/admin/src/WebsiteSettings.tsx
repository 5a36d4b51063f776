import { type FormEvent, useState } from 'react';
import { isAdministrator, type Json } from './api.ts';

/** Every setting of a website, with the one line that says what it does. */
const SWITCHES = [
  [
    'registrationEnabled',
    'Registration',
    'The master switch: off, the redeem and register pages do not exist.',
  ],
  ['invitationEnabled', 'Invitations', 'Invitees can enter or follow a code on the Redeem Invitation page.'],
  ['openRegistrationEnabled', 'Open registration', 'Anyone can sign up without a code.'],
  ['localLoginEnabled', 'Local sign-in', 'Contacts register and sign in with a username and password.'],
  ['localLoginByEmail', 'Email as username', 'Contacts sign in with their email instead of a username.'],
  ['externalLoginEnabled', 'External sign-in', 'Contacts may sign in with an external identity provider.'],
  ['requireUniqueEmail', 'Unique emails', 'Two contacts who can sign in never share an email.'],
  [
    'emailConfirmationEnabled',
    'Email confirmation',
    'A changed or unconfirmed email gets a confirmation message.',
  ],
  [
    'profileRedirectEnabled',
    'Profile first',
    'After the first sign-in, contacts go to their profile to complete it.',
  ],
  [
    'allowNonExpiringInvitations',
    'Invitations without expiry',
    'Invitations may be created that never expire.',
  ],
  [
    'redeemByOtherContactAllowed',
    'Redeem by another contact',
    'A Single invitation may be redeemed by a contact other than the invited one.',
  ],
  [
    'invitationEmailChangeAllowed',
    'Register under another email',
    'An invitee may register a Single invitation under another email; nothing is granted until that address is confirmed.',
  ],
] as const;

/** A website's name, addresses and settings, saved together; checked here, then by the API. */
export function WebsiteSettings({
  website,
  onSave,
  onInvalid,
}: {
  website: Json;
  onSave: (changes: Json) => void;
  onInvalid: (message: string) => void;
}) {
  const [settings, setSettings] = useState<Json>(website.settings);
  const set = (key: string, value: unknown) => setSettings({ ...settings, [key]: value });

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (k: string) => String(form.get(k) ?? '').trim();
    if (!text('name')) return onInvalid('Enter a name for the website.');
    const days = settings.defaultInvitationLifetimeDays;
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      return onInvalid('Invitation lifetime: a whole number of days from 1 to 3650.');
    for (const k of ['existingUserPath', 'redirectPath'])
      if (text(k) && !text(k).startsWith('/')) return onInvalid('Portal paths start with /, e.g. /welcome.');
    onSave({
      name: text('name'),
      baseUrl: text('baseUrl') || null,
      existingUserPath: text('existingUserPath') || null,
      redirectPath: text('redirectPath') || null,
      settings,
    });
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      {!isAdministrator() && <p className="hint">Only administrators change a website's settings.</p>}
      <fieldset className="plain" disabled={!isAdministrator()}>
        <label htmlFor="site-name">Name</label>
        <input id="site-name" name="name" defaultValue={website.name} />
        <label htmlFor="site-base">
          Portal address (empty: served by Admit under /portal/{website.slug})
        </label>
        <input
          id="site-base"
          name="baseUrl"
          type="url"
          defaultValue={website.baseUrlIsDefault ? '' : website.baseUrl}
        />
        <label htmlFor="site-existing">Existing User Page</label>
        <input
          id="site-existing"
          name="existingUserPath"
          defaultValue={website.existingUserPath ?? ''}
          aria-describedby="h-existing"
        />
        <p id="h-existing" className="help">
          A portal path (e.g. /welcome-back) for invitees who register with an email or username that already
          has an account. Empty: a message with a sign-in link.
        </p>
        <label htmlFor="site-redirect">Redirect Page</label>
        <input
          id="site-redirect"
          name="redirectPath"
          defaultValue={website.redirectPath ?? ''}
          aria-describedby="h-redirect"
        />
        <p id="h-redirect" className="help">
          A portal path where invitees go after redeeming an invitation (not after every sign-in). Empty: the
          profile when it is incomplete, else where they were going.
        </p>
        <fieldset>
          <legend>What the portal allows</legend>
          {SWITCHES.map(([key, label, help]) => (
            <div key={key} className="setting">
              <label className="inline" htmlFor={`s-${key}`}>
                <input
                  id={`s-${key}`}
                  type="checkbox"
                  checked={Boolean(settings[key])}
                  onChange={(e) => set(key, e.target.checked)}
                  aria-describedby={`h-${key}`}
                />{' '}
                {label}
              </label>
              <p id={`h-${key}`} className="help">
                {help}
              </p>
            </div>
          ))}
          <label htmlFor="s-lifetime">Invitation lifetime in days</label>
          <input
            id="s-lifetime"
            type="number"
            min={1}
            max={3650}
            value={settings.defaultInvitationLifetimeDays}
            onChange={(e) => set('defaultInvitationLifetimeDays', Number(e.target.value))}
            aria-describedby="h-lifetime"
          />
          <p id="h-lifetime" className="help">
            New invitations expire this many days after they are created, unless given another expiry.
          </p>
        </fieldset>
      </fieldset>
      {isAdministrator() && <button type="submit">Save settings</button>}
    </form>
  );
}
