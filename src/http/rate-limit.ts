import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Deps } from '../context.ts';
import { minuteWindow } from '../db/dialect.ts';
import { AppError } from '../errors.ts';

/**
 * Rate limits on the portal's and the console's attempts, kept in the database so every process
 * counts the same attempts. Fixed one-minute windows, one upsert a count. Three scopes (SPEC 11):
 * - per IP address (every POST of the portal and the console's sign-in; TRUST_PROXY decides the IP);
 * - per account (a username or email) and address: failed sign-ins, counted for each address that
 *   tries an account, with a ceiling ten times higher for the account from all addresses together,
 *   so one address cannot lock the owner out and many cannot guess the password freely;
 * - per recipient: the emails a visitor can make Admit send to one address (reset and confirmation
 *   links), so nobody's inbox can be flooded;
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
  | 'mail'
  | 'admin-signin'
  | 'admin-forgot'
  | 'admin-link';

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
  return now - (now % WINDOW_MS);
};

/** Seconds until the window that starts at `start` ends, by this process's clock (1 to 60). */
const retryAfterOf = (start: number) =>
  Math.min(60, Math.max(1, Math.ceil((start + WINDOW_MS - Date.now()) / 1000)));

/**
 * Adds one to each key's count in the current window; returns the counts by key and the window's
 * start. The window is the database's minute on PostgreSQL (db/dialect.ts `minuteWindow`), so
 * processes with skewed clocks count in the same windows instead of resetting each other's.
 */
async function count(
  deps: Deps,
  keys: readonly string[],
): Promise<{ counts: Map<string, number>; start: number }> {
  const window = minuteWindow(deps.db, windowOf(deps), WINDOW_MS);
  const rows = await sql<{ key: string; count: number; window_start: number | string }>`
    insert into rate_limits (key, window_start, count)
    values ${sql.join(keys.map((k) => sql`(${k}, ${window}, 1)`))}
    on conflict (key) do update set
      count = case when rate_limits.window_start = excluded.window_start then rate_limits.count + 1 else 1 end,
      window_start = excluded.window_start
    returning key, count, window_start`.execute(deps.db);
  const start = Number(rows.rows[0]?.window_start ?? windowOf(deps));
  if (Math.random() < 0.001) {
    await deps.db
      .deleteFrom('rate_limits')
      .where('window_start', '<', start - WINDOW_MS)
      .execute();
  }
  return { counts: new Map(rows.rows.map((r) => [r.key, Number(r.count)])), start };
}

/** The key's count in the current window, without counting; and the window's start. */
async function peek(deps: Deps, key: string): Promise<{ n: number; start: number }> {
  const window = minuteWindow(deps.db, windowOf(deps), WINDOW_MS);
  const r = await sql<{ count: number | null; window_start: number | string }>`
    select (select count from rate_limits where key = ${key} and window_start = ${window}) as count,
      ${window} as window_start`.execute(deps.db);
  const row = r.rows[0];
  return { n: Number(row?.count ?? 0), start: Number(row?.window_start ?? windowOf(deps)) };
}

/** Accounts and invitations are counted under a hash: the table holds no email address. */
const hashed = (s: string) => createHash('sha256').update(s.trim().toLowerCase()).digest('hex').slice(0, 40);

/** Counts one attempt from `ip` (for codes, also everyone's); throws RateLimitedError when over. */
export async function checkRateLimit(deps: Deps, action: RateLimitedAction, ip: string): Promise<void> {
  const ipKey = `${action}:ip:${ip.slice(0, 100)}`;
  const globalKey = `${action}:global`;
  const { counts, start } = await count(deps, action === 'code' ? [ipKey, globalKey] : [ipKey]);
  const limits = deps.config.rateLimits;
  if ((counts.get(ipKey) ?? 0) > limits.perIp) throw new RateLimitedError(retryAfterOf(start), 'ip');
  if ((counts.get(globalKey) ?? 0) > limits.global)
    throw new RateLimitedError(retryAfterOf(start), 'everyone');
}

/** How many more failures one account takes from all addresses together than from one. */
const ACCOUNT_CEILING = 10;

const accountKeys = (action: RateLimitedAction, account: string, ip: string | null) => {
  const key = `${action}:account:${hashed(account)}`;
  return ip === null ? { key, pair: null } : { key, pair: `${key}:ip:${ip.slice(0, 100)}` };
};

/**
 * Throws RateLimitedError when the account's failures this minute reached the limit; counts nothing.
 * With `ip`: the failures of this address on the account (the per-account limit), or of every address
 * together (ten times that). Without: the account's own count (the emails sent to a recipient).
 */
export async function checkAccountLimit(
  deps: Deps,
  action: RateLimitedAction,
  account: string,
  ip: string | null,
): Promise<void> {
  const limit = deps.config.rateLimits.perAccount;
  const { key, pair } = accountKeys(action, account, ip);
  const overall = await peek(deps, key);
  const mine = pair === null ? overall : await peek(deps, pair);
  if (mine.n >= limit || (pair !== null && overall.n >= limit * ACCOUNT_CEILING))
    throw new RateLimitedError(retryAfterOf(overall.start), 'account');
}

/** Counts an attempt on the account: a failed sign-in, an email sent (see checkAccountLimit). */
export async function countAccountAttempt(
  deps: Deps,
  action: RateLimitedAction,
  account: string,
  ip: string | null,
): Promise<void> {
  const { key, pair } = accountKeys(action, account, ip);
  await count(deps, pair === null ? [key] : [key, pair]);
}

/**
 * Counts a refused attempt on an invitation: its count this minute (the audit trail aggregates by
 * it), and the error to throw once it passes the per-code limit (else null).
 */
export async function countCodeRefusal(
  deps: Deps,
  invitationId: string,
): Promise<{ count: number; limited: RateLimitedError | null }> {
  const key = `refused:code:${invitationId}`;
  const { counts, start } = await count(deps, [key]);
  const n = counts.get(key) ?? 0;
  return {
    count: n,
    limited: n > deps.config.rateLimits.perCode ? new RateLimitedError(retryAfterOf(start), 'code') : null,
  };
}

/** The start of the current window (an ISO instant), which names a minute's aggregate. */
export const currentWindowStart = (deps: Deps): string => new Date(windowOf(deps)).toISOString();
