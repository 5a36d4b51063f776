import { scaleBand, scaleLinear } from 'd3-scale';
import { useEffect, useState } from 'react';
import type { Json } from './api.ts';

export const SERIES = [
  { key: 'created', label: 'Created', color: '#0b5cad' },
  { key: 'sent', label: 'Sent', color: '#8a4b00' },
  { key: 'redeemed', label: 'Redeemed', color: '#1a7f37' },
  { key: 'expired', label: 'Expired', color: '#b42318' },
] as const;

type Key = (typeof SERIES)[number]['key'];
interface Bucket {
  /** The first day of the bucket (YYYY-MM-DD) and, for a week, its last. */
  from: string;
  to: string;
  counts: Record<Key, number>;
}

const PHONE = '(max-width: 40rem)';
/** More days than this are drawn a week per group of bars, so the bars stay wide enough to read. */
const DAILY_UP_TO = 45;

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

/** The days as they are drawn: each day, or (for long periods) each run of seven days. */
function bucketsOf(days: Json[]): Bucket[] {
  const size = days.length > DAILY_UP_TO ? 7 : 1;
  const out: Bucket[] = [];
  for (let i = 0; i < days.length; i += size) {
    const part = days.slice(i, i + size);
    const counts = Object.fromEntries(
      SERIES.map((s) => [s.key, part.reduce((n, d) => n + (d[s.key] as number), 0)]),
    ) as Record<Key, number>;
    out.push({ from: part[0]?.day, to: part[part.length - 1]?.day, counts });
  }
  return out;
}

/**
 * The invitation funnel as grouped bars: per day (a week per group for long periods), one bar per
 * series in a fixed order, on a scale whose top fits the busiest bar, so a burst on one day reads
 * as a tall group of bars rather than a spike at the edge. Scales and ticks come from d3-scale; the
 * SVG is ours, labelled for screen readers, with the numbers in the table beside it.
 */
export function FunnelChart({ days }: { days: Json[] }) {
  const { W, H } = useSize();
  const buckets = bucketsOf(days);
  const weekly = days.length > DAILY_UP_TO;
  const highest = Math.max(0, ...buckets.flatMap((b) => SERIES.map((s) => b.counts[s.key])));
  const y = scaleLinear()
    .domain([0, Math.max(4, highest)])
    .nice(4)
    .range([H - PAD.bottom, PAD.top]);
  const x = scaleBand<number>()
    .domain(buckets.map((_, i) => i))
    .range([PAD.left, W - PAD.right])
    .paddingInner(0.2)
    .paddingOuter(0.1);
  const bar = scaleBand<Key>()
    .domain(SERIES.map((s) => s.key))
    .range([0, x.bandwidth()])
    .paddingInner(0.05);
  const every = Math.max(1, Math.ceil(buckets.length / (W < 500 ? 4 : 7)));
  const totals = SERIES.map(
    (s) => `${buckets.reduce((n, b) => n + b.counts[s.key], 0)} ${s.label.toLowerCase()}`,
  );
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Invitations per ${weekly ? 'week' : 'day'} from ${days[0]?.day} to ${days[days.length - 1]?.day}: ${totals.join(', ')}`}
      >
        {y.ticks(4).map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} stroke="#d8dee4" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" fontSize="11" fill="#57606a">
              {t.toLocaleString()}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => (
          <g key={b.from} transform={`translate(${x(i)},0)`}>
            <title>
              {weekly ? `${b.from} to ${b.to}` : b.from}:{' '}
              {SERIES.map((s) => `${b.counts[s.key]} ${s.label.toLowerCase()}`).join(', ')}
            </title>
            {SERIES.map((s) =>
              b.counts[s.key] > 0 ? (
                <rect
                  key={s.key}
                  x={bar(s.key)}
                  y={y(b.counts[s.key])}
                  width={Math.max(1, bar.bandwidth())}
                  height={y(0) - y(b.counts[s.key])}
                  fill={s.color}
                />
              ) : null,
            )}
          </g>
        ))}
        {buckets.map((b, i) =>
          i % every === 0 ? (
            <text
              key={b.from}
              x={(x(i) ?? 0) + x.bandwidth() / 2}
              y={H - 8}
              textAnchor="middle"
              fontSize="11"
              fill="#57606a"
            >
              {b.from.slice(5)}
            </text>
          ) : null,
        )}
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} stroke="#6e7781" />
      </svg>
      <figcaption className="legend">
        {SERIES.map((s) => (
          <span key={s.key}>
            <svg width="14" height="14" aria-hidden="true">
              <rect width="14" height="14" fill={s.color} />
            </svg>{' '}
            {s.label}
          </span>
        ))}
        {weekly && <span>(a group of bars per week)</span>}
      </figcaption>
    </figure>
  );
}
