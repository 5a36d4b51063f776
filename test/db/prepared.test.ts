import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.ts';
import { PLAN_EACH_CALL } from '../../src/db/pg-prepared.ts';
import {
  createTestDatabase,
  describeUnlessSkipped,
  dialectsUnderTest,
  type TestDatabase,
} from '../support/databases.ts';

const postgres = dialectsUnderTest().find((d) => d.name === 'postgres');

/** PostgreSQL statements run as named prepared statements (src/db/pg-prepared.ts). */
describeUnlessSkipped('prepared statements on PostgreSQL', postgres?.skip, () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  before(async () => {
    database = await createTestDatabase('postgres');
    handle = openDatabase(database.url, { poolSize: 1 });
    await sql`create table things (id integer primary key, name text)`.execute(handle.db);
  });
  after(async () => {
    await handle?.close();
    await database?.drop();
  });

  const all = () => sql<Record<string, unknown>>`select * from things order by id`.execute(handle.db);

  it('runs the same statement again with other values, prepared once', async () => {
    for (const [id, name] of [
      [1, 'one'],
      [2, 'two'],
    ] as const)
      await sql`insert into things (id, name) values (${id}, ${name})`.execute(handle.db);
    assert.deepEqual((await all()).rows, [
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from pg_prepared_statements where statement like 'insert into things%'`.execute(
      handle.db,
    );
    assert.equal(Number(rows[0]?.n), 1, 'one prepared statement for both inserts');
  });

  it('plans a statement marked PLAN_EACH_CALL for each call, never as a prepared statement', async () => {
    for (const pattern of ['o%', 't%', '%e', 'x%', 'o%', 't%'])
      await sql`select ${sql.raw(PLAN_EACH_CALL)} name from things where name like ${pattern}`.execute(
        handle.db,
      );
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from pg_prepared_statements where statement like ${`%${PLAN_EACH_CALL}%`}`.execute(
      handle.db,
    );
    assert.equal(Number(rows[0]?.n), 0);
  });

  it('runs statements unnamed when turned off (ADMIT_PG_PREPARED_STATEMENTS=false)', async () => {
    const plain = openDatabase(database.url, { poolSize: 1, preparedStatements: false });
    try {
      await sql`update things set name = ${'uno'} where id = ${1}`.execute(plain.db);
      const { rows } = await sql<{ n: string }>`
        select count(*) as n from pg_prepared_statements where statement like 'update things%'`.execute(
        plain.db,
      );
      assert.equal(Number(rows[0]?.n), 0);
      await sql`update things set name = ${'one'} where id = ${1}`.execute(plain.db);
    } finally {
      await plain.close();
    }
  });

  it('keeps working when a migration changes a table under a prepared select *', async () => {
    await all();
    await sql`alter table things add column colour text`.execute(handle.db);
    assert.deepEqual((await all()).rows[0], { id: 1, name: 'one', colour: null });
  });
});
