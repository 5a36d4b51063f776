import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * `webhook_endpoints.last_failed_at`: the latest failed attempt, so that a failing streak restarts
 * after a gap with no attempts (events/webhook.delivery.ts) instead of counting days of silence as
 * days of failure. A failing endpoint's is its latest attempt. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k.schema.alterTable('webhook_endpoints').addColumn('last_failed_at', t.instant).execute();
  // A failing endpoint's latest attempt failed (a success would have ended its streak).
  await sql`update webhook_endpoints set last_failed_at = coalesce(
      (select max(a.at) from webhook_attempts a
        join webhook_deliveries d on d.id = a.delivery_id
        where d.endpoint_id = webhook_endpoints.id),
      failing_since)
    where failing_since is not null`.execute(k);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  await (db as Kysely<any>).schema.alterTable('webhook_endpoints').dropColumn('last_failed_at').execute();
}
