/** The orders a list can be sorted in (the API's `sort`). */
export type Sort = 'newest' | 'oldest' | 'name';

const LABELS: Record<Sort, string> = { newest: 'Newest first', oldest: 'Oldest first', name: 'Name A–Z' };

/** A labelled choice of a list's order; a change reloads the list from its first page. */
export function SortSelect({
  id,
  value,
  onChange,
}: {
  id: string;
  value: Sort;
  onChange: (s: Sort) => void;
}) {
  return (
    <>
      <label htmlFor={id}>Sort</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as Sort)}>
        {(Object.keys(LABELS) as Sort[]).map((s) => (
          <option key={s} value={s}>
            {LABELS[s]}
          </option>
        ))}
      </select>
    </>
  );
}
