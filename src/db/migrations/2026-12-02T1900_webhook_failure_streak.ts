import type { Kysely } from 'kysely';
import { portable } from './portable.ts';

/**
 * `webhook_endpoints.last_failed_at`: the latest failed attempt, so that a failing streak restarts
 * after a gap with no attempts (events/webhook.delivery.ts) instead of counting days of silence as
 * days of failure. A failing endpoint starts from its streak's start. Frozen once landed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k.schema.alterTable('webhook_endpoints').addColumn('last_failed_at', t.instant).execute();
  await k
    .updateTable('webhook_endpoints')
    .set((eb: { ref(c: string): unknown }) => ({ last_failed_at: eb.ref('failing_since') }))
    .where('failing_since', 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  await (db as Kysely<any>).schema.alterTable('webhook_endpoints').dropColumn('last_failed_at').execute();
}
