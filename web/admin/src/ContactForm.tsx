import { type FormEvent, useState } from 'react';
import { AccountSelect } from './AccountSelect.tsx';
import type { Json } from './api.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

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
    for (const [name, label] of [
      ['email', 'Email'],
      ['email2', 'Email 2'],
      ['email3', 'Email 3'],
    ] as const) {
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
      <label htmlFor={`${p}email`}>Email</label>
      <input
        id={`${p}email`}
        name="email"
        type="email"
        defaultValue={contact?.email ?? ''}
        autoComplete="off"
      />
      <label htmlFor={`${p}email2`}>Email 2 (never sent invitations)</label>
      <input
        id={`${p}email2`}
        name="email2"
        type="email"
        defaultValue={contact?.email2 ?? ''}
        autoComplete="off"
      />
      <label htmlFor={`${p}email3`}>Email 3 (never sent invitations)</label>
      <input
        id={`${p}email3`}
        name="email3"
        type="email"
        defaultValue={contact?.email3 ?? ''}
        autoComplete="off"
      />
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
