import { type FormEvent, Fragment, useState } from 'react';
import { AccountSelect } from './AccountSelect.tsx';
import type { Json } from './api.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The three emails: field, the name messages use, and the label (only the first gets invitations). */
const EMAILS = [
  ['email', 'Email', 'Email'],
  ['email2', 'Email 2', 'Email 2 (never sent invitations)'],
  ['email3', 'Email 3', 'Email 3 (never sent invitations)'],
] as const;

/**
 * Create or edit a contact: names, the primary email (the only one invitations go to), two more
 * emails and the parent account. Checked here before it is sent; the API has the last word.
 */
export function ContactForm({
  contact,
  onSave,
  onInvalid,
  onCancel,
}: {
  contact?: Json;
  onSave: (body: Json, form: HTMLFormElement) => void;
  onInvalid: (message: string) => void;
  onCancel?: () => void;
}) {
  const [account, setAccount] = useState<string>(contact?.parentAccountId ?? '');
  const p = contact ? 'edit-' : 'new-';

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    const body: Json = { firstName: text('firstName'), lastName: text('lastName') };
    if (!body.firstName || !body.lastName) return onInvalid('Enter a first and a last name.');
    for (const [name, label] of EMAILS) {
      const value = text(name);
      if (value && !EMAIL.test(value))
        return onInvalid(
          `${name === 'email' ? '' : `${label}: `}Enter an email address like name@example.com.`,
        );
      if (value || contact) body[name] = value || null;
    }
    if (!contact && !body.email) return onInvalid('Enter an email address like name@example.com.');
    if (account || contact) body.parentAccountId = account || null;
    onSave(body, e.currentTarget);
  };

  return (
    <form
      onSubmit={submit}
      noValidate
      className={contact ? 'panel' : undefined}
      aria-label={contact ? `Edit ${contact.firstName} ${contact.lastName}` : 'New contact'}
    >
      <label htmlFor={`${p}firstName`}>First name</label>
      <input id={`${p}firstName`} name="firstName" defaultValue={contact?.firstName} autoComplete="off" />
      <label htmlFor={`${p}lastName`}>Last name</label>
      <input id={`${p}lastName`} name="lastName" defaultValue={contact?.lastName} autoComplete="off" />
      {EMAILS.map(([name, , label]) => (
        <Fragment key={name}>
          <label htmlFor={`${p}${name}`}>{label}</label>
          <input
            id={`${p}${name}`}
            name={name}
            type="email"
            defaultValue={contact?.[name] ?? ''}
            autoComplete="off"
          />
        </Fragment>
      ))}
      <AccountSelect id={`${p}account`} label="Parent account" value={account} onChange={setAccount} />
      <div className="row">
        <button type="submit">{contact ? 'Save contact' : 'Create contact'}</button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
