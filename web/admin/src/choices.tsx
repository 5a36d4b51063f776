import { useEffect, useState } from 'react';
import { api, type Json } from './api.ts';

/** The websites to choose from (the first 100), loaded once per screen. */
export function useWebsites(): Json[] {
  const [websites, setWebsites] = useState<Json[]>([]);
  useEffect(() => {
    void api('GET', '/websites?limit=100').then((w) => setWebsites(w.items));
  }, []);
  return websites;
}

/** A select's options: each website, after an "All websites" choice when `all` is set. */
export function WebsiteOptions({ websites, all = false }: { websites: Json[]; all?: boolean }) {
  return (
    <>
      {all && <option value="">All websites</option>}
      {websites.map((w) => (
        <option key={w.id} value={w.id}>
          {w.name}
        </option>
      ))}
    </>
  );
}

/** One checkbox (`webRoleIds`) per web role of a website, those in `checked` ticked. */
export function RoleCheckboxes({ roles, checked = [] }: { roles: Json[]; checked?: string[] }) {
  return (
    <>
      {roles.length === 0 && <p>This website has no web roles yet.</p>}
      {roles.map((r) => (
        <label key={r.id} className="inline">
          <input type="checkbox" name="webRoleIds" value={r.id} defaultChecked={checked.includes(r.id)} />{' '}
          {r.name}
        </label>
      ))}
    </>
  );
}
