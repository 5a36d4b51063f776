import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * Bulk operations (SPEC 2 "Operation", 6 `GET /operations/{id}`): a long bulk action, its input
 * stored as chunks that are deleted as they are done (in the transaction that does them, so a
 * crash resumes at the first chunk left), and the items that failed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  await db.schema
    .createTable('operations')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('kind', 'varchar(40)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) =>
      c.notNull().check(sql`status in ('queued', 'running', 'succeeded', 'failed')`),
    )
    .addColumn('input', t.json, (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('queued', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'varchar(1000)')
    .addColumn('actor_type', 'varchar(20)', (c) => c.notNull())
    .addColumn('actor_id', t.id)
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .addColumn('finished_at', t.instant)
    .execute();
  await db.schema
    .createTable('operation_chunks')
    .addColumn('operation_id', t.id, (c) => c.notNull().references('operations.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('first_position', 'integer', (c) => c.notNull())
    .addColumn('items', t.json, (c) => c.notNull())
    .addPrimaryKeyConstraint('operation_chunks__pk', ['operation_id', 'seq'])
    .execute();
  await db.schema
    .createTable('operation_failures')
    .addColumn('operation_id', t.id, (c) => c.notNull().references('operations.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('item', 'varchar(400)')
    .addColumn('code', 'varchar(40)', (c) => c.notNull())
    .addColumn('detail', 'varchar(2000)', (c) => c.notNull())
    .addPrimaryKeyConstraint('operation_failures__pk', ['operation_id', 'position'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('operation_failures').execute();
  await db.schema.dropTable('operation_chunks').execute();
  await db.schema.dropTable('operations').execute();
}
