import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { useWebsites, WebsiteOptions } from './choices.tsx';
import { FunnelChart, SERIES } from './FunnelChart.tsx';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { SystemStatus } from './SystemStatus.tsx';

const RANGES = [7, 30, 90, 365] as const;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Seconds as people say them: "45 min", "5 h", "3 days"; a dash for none. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min`;
  if (seconds < 2 * 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

/**
 * The dashboard: the invitation funnel (created, sent, redeemed, expired per day), for one website or
 * all, with the conversion from sent to redeemed and the median time to redeem.
 */
export function Dashboard() {
  const websites = useWebsites();
  const [websiteId, setWebsiteId] = useState('');
  const [range, setRange] = useState<number>(30);
  const [funnel, setFunnel] = useState<Json | null>(null);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    const now = Date.now();
    const params = new URLSearchParams({
      from: dayOf(now - (range - 1) * 86_400_000),
      to: dayOf(now),
      ...(websiteId ? { websiteId } : {}),
    });
    try {
      setFunnel(await api('GET', `/stats/invitations?${params}`));
      setError('');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not load the funnel.');
    }
  }, [range, websiteId]);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section>
      <h1>Dashboard</h1>
      <SystemStatus />
      <div className="row">
        <label htmlFor="dash-website">Website</label>
        <select id="dash-website" value={websiteId} onChange={(e) => setWebsiteId(e.target.value)}>
          <WebsiteOptions websites={websites} all />
        </select>
        <label htmlFor="dash-range">Period</label>
        <select id="dash-range" value={range} onChange={(e) => setRange(Number(e.target.value))}>
          {RANGES.map((r) => (
            <option key={r} value={r}>
              Last {r} days
            </option>
          ))}
        </select>
      </div>
      <Notices error={error} />
      {funnel && (
        <>
          <ul className="totals" aria-label="Totals for the period">
            {SERIES.map((s) => (
              <li key={s.key}>
                <span className="number">{funnel.totals[s.key].toLocaleString()}</span> {s.label}
              </li>
            ))}
            <li>
              <span className="number">
                {funnel.conversion === null ? '—' : `${Math.round(funnel.conversion * 100)}%`}
              </span>{' '}
              Conversion (sent → redeemed)
            </li>
            <li>
              <span className="number">{duration(funnel.medianSecondsToRedeem)}</span> Median time to redeem
            </li>
          </ul>
          <h2>Invitations per day</h2>
          <FunnelChart days={funnel.days} />
          <details>
            <summary>The numbers per day</summary>
            <Scroll label="Invitations per day">
              <table>
                <caption className="visually-hidden">Invitations per day</caption>
                <thead>
                  <tr>
                    <th scope="col">Day (UTC)</th>
                    {SERIES.map((s) => (
                      <th scope="col" key={s.key}>
                        {s.label}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {funnel.days.map((d: Json) => (
                    <tr key={d.day}>
                      <th scope="row">{d.day}</th>
                      {SERIES.map((s) => (
                        <td key={s.key}>{d[s.key]}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          </details>
        </>
      )}
    </section>
  );
}
