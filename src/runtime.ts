import path from 'node:path';
import type { Config } from './config.ts';
import type { Deps } from './context.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { deriveKeys } from './keys.ts';
import { composerFor } from './mail/composer.ts';
import type { Mailer } from './mail/mailer.ts';
import { outboxMailer } from './mail/outbox.ts';
import { smtpMailer } from './mail/smtp.ts';

export interface Runtime {
  deps: Deps;
  handle: DatabaseHandle;
  /** Who hears `deps.notifyJobs()`: this process's worker, once it runs. */
  onJobs(listener: () => void): void;
  close(): Promise<void>;
}

/** SMTP when SMTP_URL is set, else the outbox under the data directory. */
export const mailerFor = (config: Config): Mailer =>
  config.smtpUrl ? smtpMailer(config.smtpUrl) : outboxMailer(outboxDir(config));

export const outboxDir = (config: Config): string => path.join(config.dataDir, 'outbox');

/** Opens the database, brings the schema up to date, and assembles the services' dependencies. */
export async function startRuntime(
  config: Config,
  options: { migrate?: boolean; mailer?: Mailer } = {},
): Promise<Runtime> {
  const handle = openDatabase(config.databaseUrl, { preparedStatements: config.preparedStatements });
  if (options.migrate !== false) await migrateToLatest(handle.db);
  let listener = () => {};
  const mailer = options.mailer ?? mailerFor(config);
  const composer = composerFor(config.composeThreads);
  const deps: Deps = {
    db: handle.db,
    dialect: handle.dialect,
    config,
    keys: deriveKeys(config.secret),
    now: () => new Date(),
    mailer,
    composer,
    notifyJobs: () => listener(),
  };
  return {
    deps,
    handle,
    onJobs: (l) => {
      listener = l;
    },
    close: async () => {
      await composer.close();
      await mailer.close();
      await handle.close();
    },
  };
}
