import { Writable } from 'node:stream';
import { describe } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Deps } from '../../src/context.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { deriveKeys } from '../../src/keys.ts';
import { ensureBootstrapApiKey } from '../../src/modules/users/user.service.ts';
import { createTestDatabase, type DialectName, dialectsUnderTest } from './databases.ts';

/**
 * One Admit, as production builds it (buildApp over a real database), with a clock tests can move,
 * every log line captured, and an API key. Each suite gets its own database; each test makes its own
 * website and records with random data (see factories.ts).
 */
export interface Harness {
  dialect: DialectName;
  app: FastifyInstance;
  deps: Deps;
  apiKey: string;
  /** Moves the clock the services see (ms); expiry is derived from it. */
  advance(ms: number): void;
  /** Everything the app logged so far. */
  logs(): string;
  /** An authenticated API call; `body` objects are sent as JSON. */
  api(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export const TEST_API_KEY = 'admit_test_key_0123456789abcdefghijklmnop';

export async function startHarness(dialect: DialectName, env: Record<string, string> = {}): Promise<Harness> {
  const database = await createTestDatabase(dialect);
  const config: Config = loadConfig({
    DATABASE_URL: database.url,
    ADMIT_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    PUBLIC_URL: 'http://portal.test',
    DATA_DIR: '/nonexistent-admit-test-data',
    LOG_LEVEL: 'info',
    ...env,
  });
  const handle = openDatabase(config.databaseUrl, { poolSize: 20 });
  await migrateToLatest(handle.db);
  let offset = 0;
  const deps: Deps = {
    db: handle.db,
    dialect: handle.dialect,
    config,
    keys: deriveKeys(config.secret),
    now: () => new Date(Date.now() + offset),
  };
  let logged = '';
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logged += chunk.toString();
      cb();
    },
  });
  const app = await buildApp(deps, { logStream });
  await ensureBootstrapApiKey(deps, TEST_API_KEY);
  await app.ready();
  return {
    dialect,
    app,
    deps,
    apiKey: TEST_API_KEY,
    advance: (ms) => {
      offset += ms;
    },
    logs: () => logged,
    api: (method, url, body, headers = {}) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers },
        ...(body === undefined
          ? {}
          : typeof body === 'string' || Buffer.isBuffer(body)
            ? { payload: body }
            : { payload: body as object }),
      }),
    close: async () => {
      await app.close();
      await handle.close();
      await database.drop();
    },
  };
}

/**
 * Runs `suite` once per database. Inside, `h()` is the suite's harness (started in a `before` hook
 * that `suite` registers through `setup`).
 */
export function onBothDatabases(title: string, suite: (dialect: DialectName) => void): void {
  for (const { name, skip } of dialectsUnderTest()) {
    describe(`${title} [${name}]`, { skip }, () => suite(name));
  }
}
