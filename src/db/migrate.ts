import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Db } from './database.ts';
import * as initial from './migrations/2026-11-22T0400_initial.ts';
import * as sending from './migrations/2026-11-22T0500_sending.ts';
import * as portal from './migrations/2026-11-22T0600_portal.ts';
import * as sessionIdleIndex from './migrations/2026-11-22T0700_session_idle_index.ts';
import * as adminSignIn from './migrations/2026-11-22T0800_admin_sign_in.ts';
import * as funnelIndexes from './migrations/2026-11-29T0900_funnel_indexes.ts';
import * as contactSearch from './migrations/2026-11-29T1000_contact_search.ts';
import * as writeBatchCheck from './migrations/2026-11-29T1400_write_batch_check.ts';
import * as sessionPartialIndexes from './migrations/2026-11-29T1500_session_partial_indexes.ts';
import * as emailBodyLz4 from './migrations/2026-11-30T0100_email_body_lz4.ts';
import * as cheaperSendUpdates from './migrations/2026-11-30T0400_cheaper_send_updates.ts';
import * as portalTrust from './migrations/2026-12-01T0900_portal_trust.ts';
import * as mailTrouble from './migrations/2026-12-02T0100_mail_trouble.ts';
import * as operations from './migrations/2026-12-02T0300_operations.ts';
import * as emailKinds from './migrations/2026-12-02T0600_email_kinds.ts';
import * as workflowsEvents from './migrations/2026-12-02T1400_workflows_events.ts';
import * as webhookFailureStreak from './migrations/2026-12-02T1900_webhook_failure_streak.ts';
import * as identityProviders from './migrations/2026-12-03T0000_identity_providers.ts';
import * as userTokens from './migrations/2026-12-03T0600_user_tokens.ts';

/** Every migration, in order. Names are timestamps; a migration, once landed, never changes. */
const migrations: Record<string, Migration> = {
  '2026-11-22T0400_initial': initial,
  '2026-11-22T0500_sending': sending,
  '2026-11-22T0600_portal': portal,
  '2026-11-22T0700_session_idle_index': sessionIdleIndex,
  '2026-11-22T0800_admin_sign_in': adminSignIn,
  '2026-11-29T0900_funnel_indexes': funnelIndexes,
  '2026-11-29T1000_contact_search': contactSearch,
  '2026-11-29T1400_write_batch_check': writeBatchCheck,
  '2026-11-29T1500_session_partial_indexes': sessionPartialIndexes,
  '2026-11-30T0100_email_body_lz4': emailBodyLz4,
  '2026-11-30T0400_cheaper_send_updates': cheaperSendUpdates,
  '2026-12-01T0900_portal_trust': portalTrust,
  '2026-12-02T0100_mail_trouble': mailTrouble,
  '2026-12-02T0300_operations': operations,
  '2026-12-02T0600_email_kinds': emailKinds,
  '2026-12-02T1400_workflows_events': workflowsEvents,
  '2026-12-02T1900_webhook_failure_streak': webhookFailureStreak,
  '2026-12-03T0000_identity_providers': identityProviders,
  '2026-12-03T0600_user_tokens': userTokens,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export function migrator(db: Db): Migrator {
  return new Migrator({
    db,
    provider,
    migrationTableName: 'admit_migrations',
    migrationLockTableName: 'admit_migrations_lock',
  });
}

/** Brings the schema up to date; throws with the failing migration's error. Returns the names applied. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when every known migration has been applied (readiness). */
export async function isSchemaCurrent(db: Db): Promise<boolean> {
  const all = await migrator(db).getMigrations();
  return all.every((m) => m.executedAt !== undefined);
}
