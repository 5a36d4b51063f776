import { useCallback, useEffect, useState } from 'react';
import { api, type Json } from './api.ts';
import { type Choice, SearchPicker } from './SearchPicker.tsx';

/** The accounts whose name contains `q` (the first 20), as choices. */
export const searchAccounts = async (q: string): Promise<Choice[]> =>
  (
    await api('GET', `/accounts?${new URLSearchParams({ limit: '20', ...(q ? { search: q } : {}) })}`)
  ).items.map((a: Json) => ({ id: a.id, label: a.name }));

/** The contacts matching `q` (name or email; the first 20), as choices. */
export const searchContacts = async (q: string): Promise<Choice[]> =>
  (
    await api('GET', `/contacts?${new URLSearchParams({ limit: '20', ...(q ? { search: q } : {}) })}`)
  ).items.map((c: Json) => ({
    id: c.id,
    label: `${c.firstName} ${c.lastName}${c.email ? ` <${c.email}>` : ''}`,
  }));

/** The users matching `q` (name or email; the first 20), as choices. Administrators only. */
export const searchUsers = async (q: string): Promise<Choice[]> =>
  (await api('GET', `/users?${new URLSearchParams({ limit: '20', ...(q ? { search: q } : {}) })}`)).items
    .filter((u: Json) => !u.disabled)
    .map((u: Json) => ({ id: u.id, label: `${u.name} <${u.email}>` }));

/** The label of a record already chosen (an account being edited), loaded once. */
function useChosen(path: string | null, labelOf: (r: Json) => string): Choice | null {
  const [chosen, setChosen] = useState<Choice | null>(null);
  useEffect(() => {
    if (path)
      void api('GET', path)
        .then((r) => setChosen({ id: r.id, label: labelOf(r) }))
        .catch(() => setChosen(null));
  }, [path, labelOf]);
  return chosen;
}

const accountLabel = (a: Json) => a.name as string;

/** A labelled, searchable choice of account (or none), for the contact and invitation forms. */
export function AccountSelect({
  id,
  label,
  name,
  value,
  onChange,
}: {
  id: string;
  label: string;
  name?: string;
  value: string;
  onChange: (accountId: string) => void;
}) {
  const [initial] = useState(value);
  const chosen = useChosen(initial ? `/accounts/${initial}` : null, accountLabel);
  const search = useCallback(searchAccounts, []);
  return (
    <SearchPicker
      id={id}
      label={label}
      name={name}
      value={value}
      onChange={(v) => onChange(v)}
      search={search}
      none="No account"
      chosen={chosen}
    />
  );
}
