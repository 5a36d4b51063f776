import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Deps } from '../../src/context.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { jobHandlers } from '../../src/jobs/registry.ts';
import { Worker } from '../../src/jobs/worker.ts';
import { deriveKeys } from '../../src/keys.ts';
import { WebhookClient } from '../../src/modules/events/webhook.http.ts';
import { ensureBootstrapApiKey } from '../../src/modules/users/user.service.ts';
import { mailOf } from '../../src/runtime.ts';
import {
  createTestDatabase,
  type DialectName,
  describeUnlessSkipped,
  dialectsUnderTest,
} from './databases.ts';

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
  /** The job worker, when the harness was started with one. */
  worker: Worker | null;
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

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Run a job worker with test-sized timings (short leases, polls and backoffs). */
  worker?: boolean;
  /** The worker's first retry backoff of a failed job (default 200 ms; the retry comes after 50–100%). */
  jobBackoffMs?: number;
  /** The URL the app uses for the suite's database (e.g. through a TCP proxy); migrations use it too. */
  databaseUrl?: (url: string) => string;
}

export async function startHarness(dialect: DialectName, options: HarnessOptions = {}): Promise<Harness> {
  const database = await createTestDatabase(dialect);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'admit-data-'));
  const config: Config = loadConfig({
    DATABASE_URL: options.databaseUrl ? options.databaseUrl(database.url) : database.url,
    ADMIT_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    PUBLIC_URL: 'http://portal.test',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const handle = openDatabase(config.databaseUrl, {
    poolSize: 20,
    preparedStatements: config.preparedStatements,
  });
  await migrateToLatest(handle.db);
  let offset = 0;
  let worker: Worker | null = null;
  const mail = mailOf(config);
  const webhooks = new WebhookClient(config.webhookAllowPrivate);
  const deps: Deps = {
    db: handle.db,
    dialect: handle.dialect,
    dbPool: handle.pool,
    config,
    keys: deriveKeys(config.secret),
    now: () => new Date(Date.now() + offset),
    mail,
    webhooks,
    notifyJobs: () => worker?.nudge(),
  };
  if (options.worker) {
    worker = new Worker(
      deps,
      jobHandlers({
        emailRetryBaseMs: 200,
        emailRetryCapMs: 1000,
        workflowRetryDelaysMs: [100, 200, 400, 800],
      }),
      {
        concurrency: 4,
        leaseMs: 2000,
        pollMs: 25,
        backoffBaseMs: options.jobBackoffMs ?? 200,
        backoffCapMs: Math.max(1000, options.jobBackoffMs ?? 0),
      },
    );
    worker.start();
  }
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
    worker,
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
      await worker?.stop();
      await app.close();
      await mail.close();
      webhooks.close();
      await handle.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `suite` once per database. Inside, `h()` is the suite's harness (started in a `before` hook
 * that `suite` registers through `setup`).
 */
export function onBothDatabases(title: string, suite: (dialect: DialectName) => void): void {
  for (const { name, skip } of dialectsUnderTest()) {
    describeUnlessSkipped(`${title} [${name}]`, skip, () => suite(name));
  }
}
