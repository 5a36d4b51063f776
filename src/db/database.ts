import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type Transaction,
} from 'kysely';
import type pg from 'pg';
import { withPreparedStatements } from './pg-prepared.ts';
import type { Database } from './schema.ts';
import { pgInstant } from './values.ts';

export type Db = Kysely<Database>;
/** Either the database or an open transaction: what repositories take. */
export type Conn = Kysely<Database> | Transaction<Database>;
export type DialectName = 'sqlite' | 'postgres';

/** A PostgreSQL pool's connections: open, idle, and requests waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface DatabaseHandle {
  db: Db;
  dialect: DialectName;
  /** The pool's connections now (PostgreSQL); null on SQLite, which has one connection. */
  pool: () => PoolStats | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: run statements as named prepared statements (default true; see pg-prepared.ts). */
  preparedStatements?: boolean;
}

/**
 * Opens the database named by a DATABASE_URL: `sqlite:PATH` (`sqlite::memory:` for a private one)
 * or `postgres://…`. SQLite runs in WAL mode with foreign keys and a busy timeout, so a separate
 * `admit worker` process can share the file.
 */
export function openDatabase(url: string, options: DatabaseOptions = {}): DatabaseHandle {
  // Each driver is loaded when its database is opened, so a process carries only its own.
  const require = createRequire(import.meta.url);
  let dialect: Dialect;
  let name: DialectName;
  let poolStats: () => PoolStats | null = () => null;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const Sqlite: typeof SQLite = require('better-sqlite3');
    const sqlite = new Sqlite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    dialect = new ImmediateSqliteDialect({ database: withStatementCache(sqlite) });
    name = 'sqlite';
  } else {
    // Instants come back as ISO strings (timestamptz, pgInstant), counts as strings (db/values.ts).
    const { Pool, types }: typeof pg = require('pg');
    // node-postgres asks for a column's parser on every result: the instant parser is made once.
    const readDate = types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text');
    const readInstant = (text: string) => pgInstant(text) ?? readDate(text);
    const pool = new Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === types.builtins.TIMESTAMPTZ && format !== 'binary'
            ? readInstant
            : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
      },
    });
    // A connection that ends (PostgreSQL restarted, a network cut) emits 'error' on its client: while
    // idle the pool's own listener takes it and replaces the client; while checked out nothing would,
    // and an unhandled 'error' ends the process. Every client gets a listener: the query in flight
    // still fails (and answers 503), the pool discards the broken client, and the process lives on.
    poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    dialect = new PostgresDialect({
      pool: options.preparedStatements === false ? pool : withPreparedStatements(pool),
    });
    name = 'postgres';
  }
  const db = new Kysely<Database>({ dialect });
  return { db, dialect: name, pool: poolStats, close: () => db.destroy() };
}

/**
 * Kysely prepares every SQLite statement anew, which costs as much as running the portal's small
 * statements (decision 0009). Statements are kept by their SQL, the most recent
 * STATEMENT_CACHE of them (a Map keeps insertion order: a hit moves to the end, the oldest goes).
 * better-sqlite3 statements are reusable and each call finishes before the next starts.
 */
const STATEMENT_CACHE = 500;

function withStatementCache(sqlite: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) cache.delete(sql);
      else stmt = sqlite.prepare(sql);
      cache.set(sql, stmt);
      if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      return stmt;
    },
  };
}

/**
 * SQLite transactions that take the write lock when they begin (BEGIN IMMEDIATE). A deferred
 * transaction that reads first cannot upgrade to a writer while another process (`admit worker`,
 * the CLI) has written since its snapshot: it fails with "database is locked" at once, whereas
 * BEGIN IMMEDIATE waits out the busy timeout like any other write.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}
