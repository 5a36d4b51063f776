import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { useWebsites, WebsiteOptions } from './choices.tsx';
import { when } from './format.ts';
import { Notices } from './Notices.tsx';
import { Pager } from './Pager.tsx';
import { Scroll } from './Scroll.tsx';
import { type Sort, SortSelect } from './SortSelect.tsx';

const VIEWS = [
  ['new', 'New'],
  ['sent', 'Sent'],
  ['redeemed', 'Redeemed'],
  ['expired', 'Expired'],
  ['inactive', 'Inactive'],
] as const;
const PAGE = 50;
/** Sends go out in parts of this many, so a send of thousands shows its progress. */
const PART = 250;

/**
 * Invitations by view, searched and filtered on the server and paged; select some (or every one in
 * the view), then "Send Invitation" after a confirmation that says how many, with progress.
 */
export function Invitations() {
  const [view, setView] = useState<string>('new');
  const websites = useWebsites();
  const [filter, setFilter] = useState({ search: '', websiteId: '' });
  const [sort, setSort] = useState<Sort>('newest');
  const [page, setPage] = useState<{ items: Json[]; nextCursor: string | null }>({
    items: [],
    nextCursor: null,
  });
  const [cursors, setCursors] = useState<string[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [progress, setProgress] = useState<{ done: number; total: number; label: string } | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);

  const query = useCallback(
    (limit: number, cursor?: string) =>
      new URLSearchParams({
        status: view,
        sort,
        limit: String(limit),
        ...(filter.search ? { search: filter.search } : {}),
        ...(filter.websiteId ? { websiteId: filter.websiteId } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    [view, filter, sort],
  );
  const load = useCallback(
    async (cursor?: string) => setPage(await api('GET', `/invitations?${query(PAGE, cursor)}`)),
    [query],
  );
  useEffect(() => {
    setCursors([]);
    setSelected(new Set());
    void load();
  }, [load]);

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const allOnPage = page.items.length > 0 && page.items.every((i) => selected.has(i.id));
  const togglePage = () => {
    const next = new Set(selected);
    for (const i of page.items) {
      if (allOnPage) next.delete(i.id);
      else next.add(i.id);
    }
    setSelected(next);
  };
  const selectView = async () => {
    const ids = new Set<string>();
    let cursor: string | undefined;
    setProgress({ done: 0, total: 0, label: 'Selecting' });
    try {
      do {
        const p = await api('GET', `/invitations?${query(500, cursor)}`);
        for (const i of p.items) ids.add(i.id);
        setProgress({ done: ids.size, total: 0, label: 'Selecting' });
        cursor = p.nextCursor ?? undefined;
      } while (cursor);
      setSelected(ids);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not select the invitations.');
    } finally {
      setProgress(null);
    }
  };

  const send = async () => {
    dialog.current?.close();
    const ids = [...selected];
    let queued = 0;
    const refused: string[] = [];
    setMessage('');
    setError('');
    try {
      for (let k = 0; k < ids.length; k += PART) {
        setProgress({ done: k, total: ids.length, label: 'Sending' });
        const res = await api<Json>('POST', '/invitations/send', { ids: ids.slice(k, k + PART) });
        for (const r of res.items as Json[]) {
          if (r.status === 'queued') queued++;
          else refused.push(r.code ?? r.status);
        }
      }
      const why = [...new Set(refused)].join(', ');
      setMessage(
        `${queued} of ${ids.length} invitations queued for sending.${refused.length ? ` ${refused.length} refused (${why}).` : ''}`,
      );
    } catch (err) {
      setError(
        `${err instanceof ApiError ? err.message : 'Could not send.'} ${queued} were queued before this.`,
      );
    } finally {
      setProgress(null);
      setSelected(new Set());
      await load(cursors[cursors.length - 1]);
    }
  };

  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setFilter({
      search: String(form.get('search') ?? '').trim(),
      websiteId: String(form.get('websiteId') ?? ''),
    });
  };

  return (
    <section>
      <h1>Invitations</h1>
      <p>
        <a
          href={`/api/v1/invitations/export?${new URLSearchParams({
            status: view,
            sort,
            ...(filter.search ? { search: filter.search } : {}),
            ...(filter.websiteId ? { websiteId: filter.websiteId } : {}),
          })}`}
          download="invitations.csv"
        >
          Export this view as CSV
        </a>{' '}
        ·{' '}
        <a
          href={`/api/v1/redemptions/export${filter.websiteId ? `?${new URLSearchParams({ websiteId: filter.websiteId })}` : ''}`}
          download="redemptions.csv"
        >
          Export the redemptions{filter.websiteId ? ' of this website' : ''} as CSV
        </a>
      </p>
      <div className="tabs" role="tablist" aria-label="Views">
        {VIEWS.map(([key, label]) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={view === key}
            onClick={() => (key === view ? void load() : setView(key))}
          >
            {label}
          </button>
        ))}
      </div>
      <form className="row" onSubmit={search}>
        <label htmlFor="inv-search">Search by name or invited contact (name or email)</label>
        <input id="inv-search" name="search" />
        <label htmlFor="inv-website">Website</label>
        <select id="inv-website" name="websiteId" defaultValue="">
          <WebsiteOptions websites={websites} all />
        </select>
        <button type="submit">Filter</button>
        <SortSelect id="inv-sort" value={sort} onChange={setSort} />
      </form>
      <Notices message={message} error={error} />
      <div className="row">
        <button
          type="button"
          disabled={selected.size === 0 || progress !== null}
          onClick={() => dialog.current?.showModal()}
        >
          Send Invitation
        </button>
        <span>{selected.size} selected</span>
        <button type="button" className="link" disabled={progress !== null} onClick={selectView}>
          Select every invitation in this view
        </button>
      </div>
      {progress && (
        <p role="status">
          <progress
            aria-label={`${progress.label} invitations`}
            value={progress.total ? progress.done : undefined}
            max={progress.total || undefined}
          />{' '}
          {progress.label}… {progress.done}
          {progress.total ? ` of ${progress.total}` : ''}
        </p>
      )}
      <Scroll label="Invitations">
        <table>
          <caption className="visually-hidden">Invitations</caption>
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select this page"
                  checked={allOnPage}
                  onChange={togglePage}
                />
              </th>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((i) => (
              <tr key={i.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${i.name}`}
                    checked={selected.has(i.id)}
                    onChange={() => toggle(i.id)}
                  />
                </td>
                <td>
                  <a href={`#/invitations/${i.id}`}>{i.name}</a>
                </td>
                <td>{i.type}</td>
                <td>{i.status}</td>
                <td>{when(i.expiresAt, 'never')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <Pager
        cursors={cursors}
        nextCursor={page.nextCursor}
        onMove={(stack) => {
          setCursors(stack);
          void load(stack[stack.length - 1]);
        }}
      />
      <dialog ref={dialog} aria-labelledby="send-title">
        <h2 id="send-title">Send {selected.size === 1 ? '1 invitation' : `${selected.size} invitations`}?</h2>
        <p>Each invited contact gets an email with the invitation's code.</p>
        <div className="row">
          <button type="button" onClick={send}>
            Send
          </button>
          <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
