import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Actor } from '../../context.ts';
import { insertMany } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import type { OperationsTable } from '../../db/schema.ts';
import { instant, json, parsed } from '../../db/values.ts';

export type OperationStatus = OperationsTable['status'];

export interface Operation {
  id: string;
  kind: string;
  status: OperationStatus;
  /** What the operation does, as its kind defines it (never holds a secret). */
  input: Record<string, unknown>;
  total: number;
  done: number;
  created: number;
  skipped: number;
  queued: number;
  failed: number;
  error: string | null;
  actor: Actor;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** An item that did not succeed: its position in the input (a CSV line, or an index from 1). */
export interface OperationFailure {
  position: number;
  /** The contact id or email the item named, when it named one. */
  item: string | null;
  code: string;
  detail: string;
}

/** What a chunk added to the counts, and its failures. */
export interface ChunkOutcome {
  created?: number;
  skipped?: number;
  queued?: number;
  failures: OperationFailure[];
}

const toOperation = (r: Selectable<OperationsTable>): Operation => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  input: parsed(r.input),
  total: r.total,
  done: r.done,
  created: r.created,
  skipped: r.skipped,
  queued: r.queued,
  failed: r.failed,
  error: r.error,
  actor: { type: r.actor_type, id: r.actor_id, ip: null },
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
  finishedAt: instant(r.finished_at),
});

/** What an operation stands as until all of its input is stored (startOperation). */
export const NOT_STARTED = 'Not started: the request that made it ended before its input was stored.';

/** Inserts an operation that is not started yet (failed with NOT_STARTED until markQueued). */
export async function insertOperation(
  conn: Conn,
  op: { id: string; kind: string; input: Record<string, unknown>; total: number; actor: Actor; at: string },
): Promise<void> {
  await conn
    .insertInto('operations')
    .values({
      id: op.id,
      kind: op.kind,
      status: 'failed',
      input: json(op.input),
      total: op.total,
      actor_type: op.actor.type,
      actor_id: op.actor.id,
      created_at: op.at,
      updated_at: op.at,
      finished_at: null,
      error: NOT_STARTED,
    })
    .execute();
}

/** Inserts input chunks, numbered from `firstSeq`. */
export async function insertChunks(
  conn: Conn,
  operationId: string,
  firstSeq: number,
  chunks: readonly { firstPosition: number; items: readonly unknown[] }[],
): Promise<void> {
  await insertMany(
    conn,
    'operation_chunks',
    { operation_id: 'text', seq: 'int', first_position: 'int', items: 'jsonb' },
    chunks.map((c, i) => ({
      operation_id: operationId,
      seq: firstSeq + i,
      first_position: c.firstPosition,
      items: json(c.items),
    })),
  );
}

export async function markQueued(conn: Conn, operationId: string, total: number, at: string): Promise<void> {
  await conn
    .updateTable('operations')
    .set({ status: 'queued', total, error: null, updated_at: at })
    .where('id', '=', operationId)
    .execute();
}

export async function deleteOperation(conn: Conn, operationId: string): Promise<void> {
  await conn.deleteFrom('operations').where('id', '=', operationId).execute();
}

export async function findOperation(conn: Conn, id: string): Promise<Operation | undefined> {
  const r = await conn.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toOperation(r);
}

export async function findOperations(
  conn: Conn,
  q: { kind?: string; before?: string; limit: number },
): Promise<Operation[]> {
  let query = conn.selectFrom('operations').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.kind) query = query.where('kind', '=', q.kind);
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toOperation);
}

/** The first chunk not yet done, or undefined when none is left. */
export async function firstChunk(
  conn: Conn,
  operationId: string,
): Promise<{ seq: number; firstPosition: number; items: unknown[] } | undefined> {
  const r = await conn
    .selectFrom('operation_chunks')
    .select(['seq', 'first_position', 'items'])
    .where('operation_id', '=', operationId)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return r && { seq: r.seq, firstPosition: r.first_position, items: parsed(r.items) };
}

/**
 * Deletes a chunk inside the transaction that does it; false when it was already gone (another
 * runner did it), in which case the caller must roll back.
 */
export async function takeChunk(trx: Conn, operationId: string, seq: number): Promise<boolean> {
  const r = await trx
    .deleteFrom('operation_chunks')
    .where('operation_id', '=', operationId)
    .where('seq', '=', seq)
    .executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export async function deleteChunks(conn: Conn, operationId: string): Promise<number> {
  const r = await conn
    .deleteFrom('operation_chunks')
    .where('operation_id', '=', operationId)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Adds a done chunk's counts and failures, and marks the operation running. */
export async function recordChunk(
  trx: Conn,
  operationId: string,
  items: number,
  outcome: ChunkOutcome,
  at: string,
): Promise<void> {
  await trx
    .updateTable('operations')
    .set({
      status: 'running',
      done: sql`done + ${items}`,
      created: sql`created + ${outcome.created ?? 0}`,
      skipped: sql`skipped + ${outcome.skipped ?? 0}`,
      queued: sql`queued + ${outcome.queued ?? 0}`,
      failed: sql`failed + ${outcome.failures.length}`,
      updated_at: at,
    })
    .where('id', '=', operationId)
    .execute();
  await insertMany(
    trx,
    'operation_failures',
    { operation_id: 'text', position: 'int', item: 'text', code: 'text', detail: 'text' },
    outcome.failures.map((f) => ({
      operation_id: operationId,
      position: f.position,
      item: f.item?.slice(0, 400) ?? null,
      code: f.code.slice(0, 40),
      detail: f.detail.slice(0, 2000),
    })),
  );
}

/** Ends the operation; a finished one stays as it is. */
export async function finishOperation(
  conn: Conn,
  operationId: string,
  outcome: { status: 'succeeded' | 'failed'; error?: string },
  at: string,
): Promise<void> {
  await conn
    .updateTable('operations')
    .set({
      status: outcome.status,
      error: outcome.error?.slice(0, 1000) ?? null,
      updated_at: at,
      finished_at: at,
    })
    .where('id', '=', operationId)
    .where('status', 'in', ['queued', 'running'])
    .execute();
}

export async function findFailures(
  conn: Conn,
  operationId: string,
  q: { after?: number; limit: number },
): Promise<OperationFailure[]> {
  return conn
    .selectFrom('operation_failures')
    .select(['position', 'item', 'code', 'detail'])
    .where('operation_id', '=', operationId)
    .where('position', '>', q.after ?? 0)
    .orderBy('position')
    .limit(q.limit)
    .execute();
}
