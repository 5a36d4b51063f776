import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.ts';
import { migrator } from '../../src/db/migrate.ts';

/**
 * The two databases every suite runs on. SQLite is a fresh file per suite (WAL, like production).
 * PostgreSQL is a fresh database per suite on the server named by ADMIT_TEST_POSTGRES_URL (an admin
 * connection, e.g. postgres://postgres@127.0.0.1:55432/postgres). Without it the PostgreSQL suites are
 * skipped locally, and fail under CI=true: a skipped suite in CI is a defect.
 */
export type DialectName = 'sqlite' | 'postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export const postgresAdminUrl = process.env.ADMIT_TEST_POSTGRES_URL ?? '';
export const isCi = process.env.CI === 'true';

export function dialectsUnderTest(): { name: DialectName; skip: string | false }[] {
  const pgSkip = postgresAdminUrl
    ? false
    : 'ADMIT_TEST_POSTGRES_URL is not set; PostgreSQL suites skipped (see README, "Running the tests")';
  if (pgSkip && isCi) throw new Error(`CI=true but ${pgSkip}: refusing to skip the PostgreSQL suites.`);
  return [
    { name: 'sqlite', skip: false },
    { name: 'postgres', skip: pgSkip },
  ];
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'admit-test-'));
    return {
      url: `sqlite:${path.join(dir, 'admit.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `admit_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: postgresAdminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * `describe`, or when `skip` is a reason, a suite holding one skipped test with that reason, so the
 * runner's summary counts it (node:test counts a skipped `describe` as a suite, not as skipped).
 */
export function describeUnlessSkipped(
  title: string,
  skip: string | false | undefined,
  body: () => void,
): void {
  if (skip) describe(title, () => it('the whole suite', { skip }, () => {}));
  else describe(title, body);
}

/**
 * Inside a suite: a database of its own for `dialect`, migrated up to `migration` (the schema an
 * upgrade starts from) before the suite's tests and dropped after them. Returns its handle's getter.
 */
export function databaseMigratedTo(dialect: DialectName, migration: string): () => DatabaseHandle {
  let database: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  before(async () => {
    database = await createTestDatabase(dialect);
    handle = openDatabase(database.url, { poolSize: 2 });
    const { error } = await migrator(handle.db).migrateTo(migration);
    if (error) throw error;
  });
  after(async () => {
    await handle?.close();
    await database?.drop();
  });
  return () => handle as DatabaseHandle;
}
