import { type RawBuilder, sql } from 'kysely';
import type { Conn } from '../../db/database.ts';
import { isPostgres } from '../../db/dialect.ts';
import { count } from '../../db/values.ts';

export interface DayCounts {
  created: number;
  sent: number;
  redeemed: number;
  expired: number;
}

export const noCounts = (): DayCounts => ({ created: 0, sent: 0, redeemed: 0, expired: 0 });

/** Instants are ISO text on SQLite and timestamptz on PostgreSQL: the UTC day as `YYYY-MM-DD` on both. */
function utcDay(conn: Conn, column: string): RawBuilder<string> {
  return isPostgres(conn)
    ? sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD')`
    : sql<string>`substr(${sql.ref(column)}, 1, 10)`;
}

/**
 * The invitation funnel per UTC day in [from, to): four grouped queries, each over an indexed range.
 * created: invitations created; sent: invitations with a message accepted that day; redeemed:
 * redemptions; expired: invitations whose expiry passed that day (up to now) with places left.
 */
export async function funnelByDay(
  conn: Conn,
  q: { from: string; to: string; now: string; websiteId?: string },
): Promise<Map<string, DayCounts>> {
  const days = new Map<string, DayCounts>();
  const add = (rows: { day: string; n: string | number | bigint }[], key: keyof DayCounts) => {
    for (const r of rows) {
      const d = days.get(r.day) ?? noCounts();
      d[key] = count(r.n);
      days.set(r.day, d);
    }
  };
  const site = q.websiteId;

  let created = conn
    .selectFrom('invitations')
    .select([utcDay(conn, 'created_at').as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('created_at', '>=', q.from)
    .where('created_at', '<', q.to);
  if (site) created = created.where('website_id', '=', site);
  add(await created.groupBy('day').execute(), 'created');

  let sent = conn
    .selectFrom('emails')
    .innerJoin('invitations', 'invitations.id', 'emails.invitation_id')
    .select([
      utcDay(conn, 'emails.sent_at').as('day'),
      sql<number>`count(distinct ${sql.ref('emails.invitation_id')})`.as('n'),
    ])
    .where('emails.status', '=', 'sent')
    .where('emails.sent_at', '>=', q.from)
    .where('emails.sent_at', '<', q.to);
  if (site) sent = sent.where('invitations.website_id', '=', site);
  add(await sent.groupBy('day').execute(), 'sent');

  let redeemed = conn
    .selectFrom('invite_redemptions')
    .innerJoin('invitations', 'invitations.id', 'invite_redemptions.invitation_id')
    .select([
      utcDay(conn, 'invite_redemptions.created_at').as('day'),
      (eb) => eb.fn.countAll<number>().as('n'),
    ])
    .where('invite_redemptions.created_at', '>=', q.from)
    .where('invite_redemptions.created_at', '<', q.to);
  if (site) redeemed = redeemed.where('invitations.website_id', '=', site);
  add(await redeemed.groupBy('day').execute(), 'redeemed');

  let expired = conn
    .selectFrom('invitations')
    .select([utcDay(conn, 'expires_at').as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'active')
    .where('redemption_count', '<', (eb) => eb.ref('max_redemptions'))
    .where('expires_at', '>=', q.from)
    .where('expires_at', '<', q.to)
    .where('expires_at', '<=', q.now);
  if (site) expired = expired.where('website_id', '=', site);
  add(await expired.groupBy('day').execute(), 'expired');
  return days;
}

/**
 * For each redemption in [from, to), how long it came after its invitation was first sent (the
 * first accepted email; the invitation's creation when it was never emailed), in milliseconds.
 */
export async function redemptionDelays(
  conn: Conn,
  q: { from: string; to: string; websiteId?: string },
): Promise<number[]> {
  let query = conn
    .selectFrom('invite_redemptions as r')
    .innerJoin('invitations as i', 'i.id', 'r.invitation_id')
    .select((eb) => [
      'r.created_at as redeemedAt',
      'i.created_at as createdAt',
      eb
        .selectFrom('emails as e')
        .select((e) => e.fn.min('e.sent_at').as('first'))
        .whereRef('e.invitation_id', '=', 'r.invitation_id')
        .where('e.status', '=', 'sent')
        .as('sentAt'),
    ])
    .where('r.created_at', '>=', q.from)
    .where('r.created_at', '<', q.to);
  if (q.websiteId) query = query.where('i.website_id', '=', q.websiteId);
  const ms = (v: unknown) => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
  return (await query.execute()).map((r) =>
    Math.max(0, ms(r.redeemedAt) - ms(r.sentAt && ms(r.sentAt) <= ms(r.redeemedAt) ? r.sentAt : r.createdAt)),
  );
}
