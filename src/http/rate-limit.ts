import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Deps } from '../context.ts';
import { AppError } from '../errors.ts';

/**
 * Rate limits on the portal's and the console's attempts, kept in the database so every process
 * counts the same attempts. Fixed one-minute windows, one upsert a count. Three scopes (SPEC 11):
 * - per IP address (every POST of the portal and the console's sign-in; TRUST_PROXY decides the IP);
 * - per account (a username or email), counting failed sign-ins and reset requests, so many addresses
 *   cannot guess one account's password, and one account cannot be mail-bombed;
 * - per code, counting refused attempts on one existing invitation.
 * The global ceiling applies to code guesses only (malformed or unknown codes from everyone): spent
 * by made-up accounts, a global sign-in budget would lock every real contact out.
 */
export type RateLimitedAction =
  | 'code'
  | 'redeem'
  | 'register'
  | 'signin'
  | 'signout'
  | 'forgot'
  | 'reset'
  | 'confirm'
  | 'profile'
  | 'admin-signin';

const WINDOW_MS = 60_000;

export interface RateLimits {
  /** Attempts a minute from one IP address, per action. */
  perIp: number;
  /** Failed attempts a minute on one account (sign-in, password reset requests). */
  perAccount: number;
  /** Refused attempts a minute on one invitation. */
  perCode: number;
  /** Code guesses a minute from everyone together. */
  global: number;
}

export type RateLimitScope = 'ip' | 'account' | 'code' | 'everyone';

export class RateLimitedError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: RateLimitScope,
  ) {
    super('RATE_LIMITED', `Too many attempts. Wait ${retryAfterSeconds} seconds and try again.`);
  }
}

const windowOf = (deps: Deps) => {
  const now = deps.now().getTime();
  const start = now - (now % WINDOW_MS);
  return { start, retryAfter: Math.ceil((start + WINDOW_MS - now) / 1000) };
};

/** Adds one to each key's count in the current window; returns the counts by key. */
async function count(deps: Deps, keys: readonly string[], windowStart: number): Promise<Map<string, number>> {
  const rows = await sql<{ key: string; count: number }>`
    insert into rate_limits (key, window_start, count)
    values ${sql.join(keys.map((k) => sql`(${k}, ${windowStart}, 1)`))}
    on conflict (key) do update set
      count = case when rate_limits.window_start = excluded.window_start then rate_limits.count + 1 else 1 end,
      window_start = excluded.window_start
    returning key, count`.execute(deps.db);
  if (Math.random() < 0.001) {
    await deps.db
      .deleteFrom('rate_limits')
      .where('window_start', '<', windowStart - WINDOW_MS)
      .execute();
  }
  return new Map(rows.rows.map((r) => [r.key, Number(r.count)]));
}

/** The key's count in the current window, without counting. */
async function peek(deps: Deps, key: string, windowStart: number): Promise<number> {
  const r = await deps.db
    .selectFrom('rate_limits')
    .select(['count', 'window_start'])
    .where('key', '=', key)
    .executeTakeFirst();
  return r && Number(r.window_start) === windowStart ? Number(r.count) : 0;
}

/** Accounts and invitations are counted under a hash: the table holds no email address. */
const hashed = (s: string) => createHash('sha256').update(s.trim().toLowerCase()).digest('hex').slice(0, 40);

/** Counts one attempt from `ip` (for codes, also everyone's); throws RateLimitedError when over. */
export async function checkRateLimit(deps: Deps, action: RateLimitedAction, ip: string): Promise<void> {
  const { start, retryAfter } = windowOf(deps);
  const ipKey = `${action}:ip:${ip.slice(0, 100)}`;
  const globalKey = `${action}:global`;
  const counts = await count(deps, action === 'code' ? [ipKey, globalKey] : [ipKey], start);
  const limits = deps.config.rateLimits;
  if ((counts.get(ipKey) ?? 0) > limits.perIp) throw new RateLimitedError(retryAfter, 'ip');
  if ((counts.get(globalKey) ?? 0) > limits.global) throw new RateLimitedError(retryAfter, 'everyone');
}

/** Throws RateLimitedError when the account's failures this minute reached the limit; counts nothing. */
export async function checkAccountLimit(
  deps: Deps,
  action: RateLimitedAction,
  account: string,
): Promise<void> {
  const { start, retryAfter } = windowOf(deps);
  if ((await peek(deps, `${action}:account:${hashed(account)}`, start)) >= deps.config.rateLimits.perAccount)
    throw new RateLimitedError(retryAfter, 'account');
}

/** Counts an attempt on the account: a failed sign-in, a reset request (see checkAccountLimit). */
export async function countAccountAttempt(
  deps: Deps,
  action: RateLimitedAction,
  account: string,
): Promise<void> {
  await count(deps, [`${action}:account:${hashed(account)}`], windowOf(deps).start);
}

/**
 * Counts a refused attempt on an invitation: its count this minute (the audit trail aggregates by
 * it), and the error to throw once it passes the per-code limit (else null).
 */
export async function countCodeRefusal(
  deps: Deps,
  invitationId: string,
): Promise<{ count: number; limited: RateLimitedError | null }> {
  const { start, retryAfter } = windowOf(deps);
  const key = `refused:code:${invitationId}`;
  const n = (await count(deps, [key], start)).get(key) ?? 0;
  return {
    count: n,
    limited: n > deps.config.rateLimits.perCode ? new RateLimitedError(retryAfter, 'code') : null,
  };
}

/** The start of the current window (an ISO instant), which names a minute's aggregate. */
export const currentWindowStart = (deps: Deps): string => new Date(windowOf(deps).start).toISOString();
