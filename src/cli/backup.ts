import { chmodSync, closeSync, existsSync, linkSync, openSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type SQLite from 'better-sqlite3';

/**
 * `admit backup FILE`: a consistent copy of a SQLite database, taken while Admit runs (SQLite's
 * online backup API copies pages and restarts when a writer changes the source, so the copy is one
 * committed state). Never overwrites FILE. PostgreSQL has its own tools: the message says which.
 * Returns the exit code.
 */
export async function backupDatabase(
  databaseUrl: string,
  target: string,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const sourceFile = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : '';
  if (databaseUrl.startsWith('sqlite:') && (sourceFile === '' || sourceFile === ':memory:')) {
    err('DATABASE_URL names no SQLite file to back up (sqlite:PATH).');
    return 2;
  }
  if (!databaseUrl.startsWith('sqlite:')) {
    err(
      'admit backup copies a SQLite database file. For PostgreSQL use its own tools, e.g.\n' +
        '  pg_dump --format=custom --file=admit.dump "$DATABASE_URL"\n' +
        'and restore with pg_restore --dbname=... admit.dump (see README, "Backups").',
    );
    return 2;
  }
  const file = path.resolve(target);
  if (existsSync(file)) {
    err(`${file} exists; give a new file name (a backup never overwrites).`);
    return 2;
  }
  const require = createRequire(import.meta.url);
  const Sqlite: typeof SQLite = require('better-sqlite3');
  const source = new Sqlite(sourceFile, { fileMustExist: true });
  // Written beside the target and renamed into place: a failed backup leaves nothing behind, and
  // the copy (which holds password and key hashes) is readable by its owner only.
  const partial = `${file}.partial-${process.pid}`;
  try {
    source.pragma('busy_timeout = 5000');
    closeSync(openSync(partial, 'wx', 0o600));
    const started = Date.now();
    const { totalPages } = await source.backup(partial);
    chmodSync(partial, 0o600);
    linkSync(partial, file); // fails if FILE appeared meanwhile: never overwrites
    out(`Backed up ${totalPages} pages to ${file} in ${Date.now() - started} ms.`);
    return 0;
  } catch (e) {
    err(`The backup failed: ${(e as Error).message}`);
    return 1;
  } finally {
    source.close();
    rmSync(partial, { force: true });
  }
}
