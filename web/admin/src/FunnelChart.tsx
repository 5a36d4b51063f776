import { useEffect, useState } from 'react';
import type { Json } from './api.ts';

export const SERIES = [
  { key: 'created', label: 'Created', color: '#0b5cad', dash: '' },
  { key: 'sent', label: 'Sent', color: '#8a4b00', dash: '6 3' },
  { key: 'redeemed', label: 'Redeemed', color: '#1a7f37', dash: '' },
  { key: 'expired', label: 'Expired', color: '#b42318', dash: '2 3' },
] as const;

const PHONE = '(max-width: 40rem)';

/** The drawing's size in its own units: narrower on phones (followed as the window changes), so its text stays readable. */
function useSize() {
  const [narrow, setNarrow] = useState(() => window.matchMedia(PHONE).matches);
  useEffect(() => {
    const query = window.matchMedia(PHONE);
    const changed = () => setNarrow(query.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  return narrow ? { W: 360, H: 240 } : { W: 720, H: 260 };
}
const PAD = { left: 44, right: 12, top: 12, bottom: 28 };

/** A tidy top for the y axis: 1, 2 or 5 times a power of ten, so the ticks are round numbers. */
function niceMax(n: number): number {
  if (n <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/**
 * The invitation funnel as a line chart (SVG, no library): one line per series, each with its own
 * colour and dash so it reads without colour too. The numbers themselves are in the table beside it.
 */
export function FunnelChart({ days }: { days: Json[] }) {
  const { W, H } = useSize();
  const top = niceMax(Math.max(0, ...days.flatMap((d) => SERIES.map((s) => d[s.key] as number))));
  const x = (i: number) =>
    PAD.left + (days.length <= 1 ? 0 : (i * (W - PAD.left - PAD.right)) / (days.length - 1));
  const y = (v: number) => H - PAD.bottom - (v * (H - PAD.top - PAD.bottom)) / top;
  const ticks = [0, top / 4, top / 2, (3 * top) / 4, top];
  const every = Math.max(1, Math.ceil(days.length / (W < 500 ? 4 : 6)));
  const totals = SERIES.map((s) => `${days.reduce((n, d) => n + d[s.key], 0)} ${s.label.toLowerCase()}`);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Invitations per day from ${days[0]?.day} to ${days[days.length - 1]?.day}: ${totals.join(', ')}`}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} stroke="#d8dee4" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" fontSize="11" fill="#57606a">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {days.map((d, i) =>
          i % every === 0 || i === days.length - 1 ? (
            <text
              key={d.day}
              x={x(i)}
              y={H - 8}
              textAnchor={i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle'}
              fontSize="11"
              fill="#57606a"
            >
              {d.day.slice(5)}
            </text>
          ) : null,
        )}
        {SERIES.map((s) => (
          <polyline
            key={s.key}
            fill="none"
            stroke={s.color}
            strokeWidth="2.5"
            strokeDasharray={s.dash}
            points={days.map((d, i) => `${x(i)},${y(d[s.key])}`).join(' ')}
          />
        ))}
      </svg>
      <figcaption className="legend">
        {SERIES.map((s) => (
          <span key={s.key}>
            <svg width="28" height="10" aria-hidden="true">
              <line x1="0" x2="28" y1="5" y2="5" stroke={s.color} strokeWidth="3" strokeDasharray={s.dash} />
            </svg>{' '}
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
