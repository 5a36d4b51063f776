import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { getWebsite } from '../websites/website.ts';
import { type DayCounts, funnelByDay, noCounts } from './stats.repository.ts';

export interface FunnelDay extends DayCounts {
  day: string;
}

export interface Funnel {
  from: string;
  to: string;
  websiteId: string | null;
  days: FunnelDay[];
  totals: DayCounts;
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

  const counts = await funnelByDay(deps.db, {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs + DAY_MS).toISOString(),
    now: now.toISOString(),
    websiteId: q.websiteId,
  });
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
  };
}
