import { useEffect, useState } from 'react';
import { api, type Json } from './api.ts';

/** A labelled choice of account (or none), for the contact and invitation forms. */
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
  const [accounts, setAccounts] = useState<Json[]>([]);
  useEffect(() => {
    void api('GET', '/accounts?limit=100').then((a) => setAccounts(a.items));
  }, []);
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">No account</option>
        {accounts.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
      </select>
    </>
  );
}
