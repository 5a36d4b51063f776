import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { getWebsite } from '../websites/website.ts';
import { type DayCounts, funnelByDay, noCounts, redemptionDelays } from './stats.repository.ts';

export interface FunnelDay extends DayCounts {
  day: string;
}

export interface Funnel {
  from: string;
  to: string;
  websiteId: string | null;
  days: FunnelDay[];
  totals: DayCounts;
  /** Redeemed ÷ sent over the period (0 to 1, may pass 1 for Group invitations); null with nothing sent. */
  conversion: number | null;
  /** The median time from first sent to redeemed of the period's redemptions, in seconds; null with none. */
  medianSecondsToRedeem: number | null;
}

/** The middle value (the mean of the two middle ones for an even count); null for none. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const DAY_MS = 86_400_000;
export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 366;

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

function parseDay(value: string, path: string): number {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(ms) || dayOf(new Date(ms)) !== value)
    throw new AppError('VALIDATION_FAILED', `${path} must be a real date written YYYY-MM-DD.`, [
      { path, message: 'Write the day as YYYY-MM-DD, e.g. 2026-11-29.' },
    ]);
  return ms;
}

/**
 * The dashboard funnel: for every UTC day from `from` to `to` (both included; by default the last 30
 * days up to today) how many invitations were created, sent, redeemed and expired. Days with nothing
 * are there with zeros, so a chart needs no gaps filled.
 */
export async function invitationFunnel(
  deps: Deps,
  q: { from?: string; to?: string; websiteId?: string },
): Promise<Funnel> {
  const now = deps.now();
  const toMs = q.to ? parseDay(q.to, '/to') : parseDay(dayOf(now), '/to');
  const fromMs = q.from ? parseDay(q.from, '/from') : toMs - (DEFAULT_DAYS - 1) * DAY_MS;
  if (fromMs > toMs)
    throw new AppError('VALIDATION_FAILED', 'from must be on or before to.', [
      { path: '/from', message: 'Choose a first day on or before the last day.' },
    ]);
  const span = (toMs - fromMs) / DAY_MS + 1;
  if (span > MAX_DAYS)
    throw new AppError('VALIDATION_FAILED', `At most ${MAX_DAYS} days at a time; this asks for ${span}.`, [
      { path: '/from', message: `Choose at most ${MAX_DAYS} days.` },
    ]);
  if (q.websiteId) await getWebsite(deps, q.websiteId);

  const range = {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs + DAY_MS).toISOString(),
    websiteId: q.websiteId,
  };
  const counts = await funnelByDay(deps.db, { ...range, now: now.toISOString() });
  const delays = await redemptionDelays(deps.db, range);
  const totals = noCounts();
  const days: FunnelDay[] = [];
  for (let ms = fromMs; ms <= toMs; ms += DAY_MS) {
    const day = dayOf(new Date(ms));
    const c = counts.get(day) ?? noCounts();
    for (const k of Object.keys(totals) as (keyof DayCounts)[]) totals[k] += c[k];
    days.push({ day, ...c });
  }
  return {
    from: dayOf(new Date(fromMs)),
    to: dayOf(new Date(toMs)),
    websiteId: q.websiteId ?? null,
    days,
    totals,
    conversion: totals.sent > 0 ? totals.redeemed / totals.sent : null,
    medianSecondsToRedeem: ((m) => (m === null ? null : Math.round(m / 1000)))(median(delays)),
  };
}
