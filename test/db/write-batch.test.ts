import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.ts';
import { renumberParameters, runWrites } from '../../src/db/write-batch.ts';
import {
  createTestDatabase,
  describeUnlessSkipped,
  dialectsUnderTest,
  type TestDatabase,
} from '../support/databases.ts';

describe('renumberParameters', () => {
  it('shifts placeholders and leaves quoted text alone', () => {
    assert.equal(
      renumberParameters(`update "t$1" set a = $1, b = 'x$2''$3' where c = $10`, 4),
      `update "t$1" set a = $5, b = 'x$2''$3' where c = $14`,
    );
    assert.equal(renumberParameters('select $1', 0), 'select $1');
  });
});

for (const { name, skip } of dialectsUnderTest()) {
  /** Several writes in one call (src/db/write-batch.ts): one statement on PostgreSQL. */
  describeUnlessSkipped(`runWrites [${name}]`, skip, () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    before(async () => {
      database = await createTestDatabase(name);
      handle = openDatabase(database.url, { poolSize: 2 });
      await sql`create table things (id integer primary key, name text not null)`.execute(handle.db);
      await sql`create table marks (thing_id integer primary key, note text)`.execute(handle.db);
    });
    after(async () => {
      await handle?.close();
      await database?.drop();
    });

    const things = async () =>
      (await sql<{ id: number; name: string }>`select id, name from things order by id`.execute(handle.db))
        .rows;
    const marks = async (id: number) =>
      Number(
        (await sql<{ n: number }>`select count(*) as n from marks where thing_id = ${id}`.execute(handle.db))
          .rows[0]?.n,
      );

    it('runs every statement with its own values and returns the rows each changed', async () => {
      const db = handle.db;
      const counts = await runWrites(db, [
        sql`insert into things (id, name) values (${1}, ${'one'}), (${2}, ${'$1 two'})`.compile(db),
        sql`insert into marks (thing_id, note) values (${7}, ${'seven'})`.compile(db),
        sql`update marks set note = ${'none'} where thing_id = ${99}`.compile(db),
      ]);
      assert.deepEqual(counts, [2, 1, 0]);
      assert.deepEqual(await things(), [
        { id: 1, name: 'one' },
        { id: 2, name: '$1 two' },
      ]);
      const again = await runWrites(db, [
        sql`insert into things (id, name) values (${1}, ${'again'}) on conflict (id) do nothing`.compile(db),
        sql`update things set name = ${'deux'} where id = ${2}`.compile(db),
      ]);
      assert.deepEqual(again, [0, 1]);
      assert.deepEqual(await things(), [
        { id: 1, name: 'one' },
        { id: 2, name: 'deux' },
      ]);
    });

    it('inside a transaction: a failing statement leaves none of the batch', async () => {
      await assert.rejects(
        handle.db
          .transaction()
          .execute((trx) =>
            runWrites(trx, [
              sql`insert into marks (thing_id) values (${8})`.compile(trx),
              sql`insert into things (id, name) values (${1}, ${'dup'})`.compile(trx),
            ]),
          ),
      );
      assert.equal(await marks(8), 0);
    });

    if (name === 'postgres') {
      it('PostgreSQL: the batch is one statement, all or nothing even outside a transaction', async () => {
        const db = handle.db;
        await assert.rejects(
          runWrites(db, [
            sql`insert into marks (thing_id) values (${11})`.compile(db),
            sql`insert into things (id, name) values (${2}, ${'dup'})`.compile(db),
          ]),
          /duplicate key/,
        );
        assert.equal(await marks(11), 0);
      });

      it('PostgreSQL: refuses a statement with a RETURNING clause of its own', async () => {
        const db = handle.db;
        await assert.rejects(
          runWrites(db, [
            sql`insert into marks (thing_id) values (${9}) returning thing_id`.compile(db),
            sql`insert into marks (thing_id) values (${10})`.compile(db),
          ]),
          /RETURNING/,
        );
        assert.equal(await marks(9), 0);
      });
    }
  });
}
