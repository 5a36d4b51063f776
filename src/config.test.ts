import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'admit-config-'));

describe('configuration', () => {
  it('runs with no settings at all: SQLite and a generated secret kept in the data directory', () => {
    const dir = tmp();
    const c = loadConfig({ DATA_DIR: dir });
    assert.equal(c.port, 3000);
    assert.equal(c.publicUrl, 'http://localhost:3000');
    assert.equal(c.databaseUrl, `sqlite:${path.join(dir, 'admit.db')}`);
    assert.equal(c.secretGenerated, true);
    assert.equal(c.smtpUrl, null);
    assert.equal(c.preparedStatements, true);
    assert.equal(
      loadConfig({ DATA_DIR: dir, ADMIT_PG_PREPARED_STATEMENTS: 'FALSE' }).preparedStatements,
      false,
    );
    const file = path.join(dir, 'secret.key');
    assert.equal(readFileSync(file, 'utf8').trim(), c.secret);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(loadConfig({ DATA_DIR: dir }).secret, c.secret, 'the same secret on the next start');
    assert.ok(Object.isFrozen(c));
  });

  it('reports every problem at once, each saying how to fix it', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        PUBLIC_URL: 'not a url',
        DATABASE_URL: 'mysql://x',
        ADMIT_SECRET: 'short',
        LOG_LEVEL: 'loud',
        SMTP_URL: 'mail.example.com',
        ADMIT_PG_PREPARED_STATEMENTS: 'sometimes',
      });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 7);
      for (const name of [
        'PORT',
        'PUBLIC_URL',
        'DATABASE_URL',
        'ADMIT_SECRET',
        'LOG_LEVEL',
        'SMTP_URL',
        'ADMIT_PG_PREPARED_STATEMENTS',
      ]) {
        assert.ok(err.message.includes(name), name);
      }
      assert.match(err.message, /openssl rand/);
    }
  });

  it('takes the first administrator from ADMIT_BOOTSTRAP_ADMIN_*, both or neither', () => {
    const c = loadConfig({
      DATA_DIR: tmp(),
      ADMIT_BOOTSTRAP_ADMIN_EMAIL: 'root@example.test',
      ADMIT_BOOTSTRAP_ADMIN_PASSWORD: 'a strong first password',
    });
    assert.deepEqual(c.bootstrapAdmin, { email: 'root@example.test', password: 'a strong first password' });
    assert.equal(loadConfig({ DATA_DIR: tmp() }).bootstrapAdmin, null);
    assert.throws(
      () => loadConfig({ DATA_DIR: tmp(), ADMIT_BOOTSTRAP_ADMIN_EMAIL: 'root@example.test' }),
      (err: ConfigError) => err.problems.some((p) => p.includes('ADMIT_BOOTSTRAP_ADMIN_PASSWORD')),
    );
    assert.throws(
      () =>
        loadConfig({
          DATA_DIR: tmp(),
          ADMIT_BOOTSTRAP_ADMIN_EMAIL: 'root',
          ADMIT_BOOTSTRAP_ADMIN_PASSWORD: 'short',
        }),
      (err: ConfigError) => err.problems.length === 2,
    );
  });

  it('normalises PUBLIC_URL and keeps a given secret out of the data directory', () => {
    const c = loadConfig({
      PUBLIC_URL: 'https://portal.example.com/',
      ADMIT_SECRET: 'x'.repeat(40),
      DATA_DIR: '/nonexistent-dir',
    });
    assert.equal(c.publicUrl, 'https://portal.example.com');
    assert.equal(c.secretGenerated, false);
  });
});
