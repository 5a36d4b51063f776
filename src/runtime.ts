import type { Config } from './config.ts';
import type { Deps } from './context.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { deriveKeys } from './keys.ts';

/** Opens the database, brings the schema up to date, and assembles the services' dependencies. */
export async function startRuntime(
  config: Config,
  options: { migrate?: boolean } = {},
): Promise<{ deps: Deps; handle: DatabaseHandle }> {
  const handle = openDatabase(config.databaseUrl);
  if (options.migrate !== false) await migrateToLatest(handle.db);
  const deps: Deps = {
    db: handle.db,
    dialect: handle.dialect,
    config,
    keys: deriveKeys(config.secret),
    now: () => new Date(),
  };
  return { deps, handle };
}
