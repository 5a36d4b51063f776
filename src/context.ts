import type { Config } from './config.ts';
import type { Db, DialectName, PoolStats } from './db/database.ts';
import type { Keys } from './keys.ts';
import type { Mail } from './mail/mail.ts';
import type { WebhookClient } from './modules/events/webhook.http.ts';

/** What every service needs, built once by main.ts (or the test harness) and passed explicitly. */
export interface Deps {
  readonly db: Db;
  readonly dialect: DialectName;
  /** The database pool's connections now (PostgreSQL; null on SQLite), for /metrics. */
  readonly dbPool: () => PoolStats | null;
  readonly config: Config;
  readonly keys: Keys;
  /** The current instant; tests move it to see expiry without waiting. */
  readonly now: () => Date;
  /** Where messages are composed and sent (SMTP or the outbox): on mail threads, or inline. */
  readonly mail: Mail;
  /** Signed POSTs to integrators' URLs (webhook endpoints, call-webhook steps), behind the SSRF guard. */
  readonly webhooks: WebhookClient;
  /** Tells this process's worker that jobs were committed (so it claims now, not after its idle wait). */
  readonly notifyJobs: () => void;
}

/** Who does something, recorded on audit events. */
export interface Actor {
  readonly type: 'user' | 'contact' | 'system';
  readonly id: string | null;
  readonly ip: string | null;
}

export const systemActor: Actor = Object.freeze({ type: 'system', id: null, ip: null });
