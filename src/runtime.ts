import path from 'node:path';
import type { Config } from './config.ts';
import type { Deps } from './context.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { retryWhileUnavailable } from './db/dialect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { deriveKeys } from './keys.ts';
import { type Mail, mailFor, transportSpec } from './mail/mail.ts';
import { WebhookClient } from './modules/events/webhook.http.ts';

export interface Runtime {
  deps: Deps;
  handle: DatabaseHandle;
  /** Who hears `deps.notifyJobs()`: this process's worker, once it runs. */
  onJobs(listener: () => void): void;
  close(): Promise<void>;
}

/** SMTP when SMTP_URL is set, else the outbox under the data directory; on ADMIT_COMPOSE_THREADS threads. */
export const mailOf = (config: Config): Mail =>
  mailFor(transportSpec(config.smtpUrl, outboxDir(config)), config.composeThreads);

export const outboxDir = (config: Config): string => path.join(config.dataDir, 'outbox');

/** Opens the database, brings the schema up to date, and assembles the services' dependencies. */
export async function startRuntime(
  config: Config,
  options: { migrate?: boolean; onWait?: (err: unknown) => void } = {},
): Promise<Runtime> {
  const handle = openDatabase(config.databaseUrl, { preparedStatements: config.preparedStatements });
  // serve and worker (which pass onWait) wait for the database; one-off commands fail at once.
  if (options.migrate !== false)
    await (options.onWait
      ? retryWhileUnavailable(() => migrateToLatest(handle.db), {
          firstMs: 1_000,
          capMs: 10_000,
          onWait: options.onWait,
        })
      : migrateToLatest(handle.db));
  let listener = () => {};
  const mail = mailOf(config);
  const webhooks = new WebhookClient(config.webhookAllowPrivate);
  const deps: Deps = {
    db: handle.db,
    dialect: handle.dialect,
    dbPool: handle.pool,
    config,
    keys: deriveKeys(config.secret),
    now: () => new Date(),
    mail,
    webhooks,
    notifyJobs: () => listener(),
  };
  return {
    deps,
    handle,
    onJobs: (l) => {
      listener = l;
    },
    close: async () => {
      await mail.close();
      webhooks.close();
      await handle.close();
    },
  };
}
