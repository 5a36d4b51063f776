import { sql } from 'kysely';
import type { Deps } from '../context.ts';
import { AppError } from '../errors.ts';

/**
 * Per-IP and global rate limits on the portal's attempts (codes, sign-in, registration, password
 * reset), kept in the database so every process counts the same attempts. Fixed one-minute windows:
 * one upsert a check, counting the IP's key and the action's global key together. The client IP
 * honours TRUST_PROXY (Fastify's request.ip).
 */
export type RateLimitedAction =
  | 'code'
  | 'redeem'
  | 'register'
  | 'signin'
  | 'forgot'
  | 'reset'
  | 'profile'
  | 'admin-signin';

const WINDOW_MS = 60_000;

export interface RateLimits {
  /** Attempts a minute from one IP address, per action. */
  perIp: number;
  /** Attempts a minute from everyone, per action. */
  global: number;
}

export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', `Too many attempts. Wait ${retryAfterSeconds} seconds and try again.`);
  }
}

/** Counts one attempt; throws RateLimitedError when the IP's or everyone's budget is spent. */
export async function checkRateLimit(deps: Deps, action: RateLimitedAction, ip: string): Promise<void> {
  const now = deps.now().getTime();
  const windowStart = now - (now % WINDOW_MS);
  const ipKey = `${action}:ip:${ip.slice(0, 100)}`;
  const globalKey = `${action}:global`;
  const rows = await sql<{ key: string; count: number }>`
    insert into rate_limits (key, window_start, count)
    values (${ipKey}, ${windowStart}, 1), (${globalKey}, ${windowStart}, 1)
    on conflict (key) do update set
      count = case when rate_limits.window_start = excluded.window_start then rate_limits.count + 1 else 1 end,
      window_start = excluded.window_start
    returning key, count`.execute(deps.db);
  const limits = deps.config.rateLimits;
  const over = rows.rows.some((r) =>
    r.key === ipKey ? Number(r.count) > limits.perIp : Number(r.count) > limits.global,
  );
  if (Math.random() < 0.001) {
    await deps.db
      .deleteFrom('rate_limits')
      .where('window_start', '<', windowStart - WINDOW_MS)
      .execute();
  }
  if (over) throw new RateLimitedError(Math.ceil((windowStart + WINDOW_MS - now) / 1000));
}
