import { useEffect, useState } from 'react';

export interface Choice {
  id: string;
  label: string;
}

/** How long typing pauses before the picker searches. */
const DEBOUNCE_MS = 200;

/**
 * A choice among many records: a search box and a select of what matches (the server searches, so
 * every record can be found, not only the first page). The chosen record stays listed while the
 * search changes. `none` adds an empty choice with that label.
 */
export function SearchPicker({
  id,
  label,
  name,
  value,
  onChange,
  search,
  none,
  chosen,
}: {
  id: string;
  label: string;
  name?: string;
  value: string;
  onChange: (id: string, choice: Choice | null) => void;
  search: (q: string) => Promise<Choice[]>;
  none?: string;
  /** The chosen record's label, when it is known before any search (editing). */
  chosen?: Choice | null;
}) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Choice[]>([]);
  const [current, setCurrent] = useState<Choice | null>(chosen ?? null);
  useEffect(() => {
    if (chosen) setCurrent(chosen);
  }, [chosen]);
  useEffect(() => {
    let live = true;
    const t = setTimeout(
      () =>
        void search(q.trim()).then((c) => {
          if (live) setFound(c);
        }),
      q ? DEBOUNCE_MS : 0,
    );
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q, search]);
  const listed =
    current && current.id === value && !found.some((c) => c.id === value) ? [current, ...found] : found;
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <div className="picker">
        <input
          type="search"
          aria-label={`Search: ${label}`}
          placeholder="Type to search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <select
          id={id}
          name={name}
          value={value}
          onChange={(e) => {
            const choice = listed.find((c) => c.id === e.target.value) ?? null;
            setCurrent(choice);
            onChange(e.target.value, choice);
          }}
        >
          {none !== undefined && <option value="">{none}</option>}
          {none === undefined && !value && <option value="">Choose…</option>}
          {listed.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </div>
    </>
  );
}
