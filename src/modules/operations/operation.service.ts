import { setImmediate as turn } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { isDatabaseUnavailable } from '../../db/dialect.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { checkedPayload, type Job, type JobHandler, PermanentJobError } from '../../jobs/worker.ts';
import type { ChunkOutcome, Operation, OperationFailure } from './operation.repository.ts';
import * as repo from './operation.repository.ts';

export type { ChunkOutcome, Operation, OperationFailure };

/**
 * Bulk operations (SPEC 2, 6): a long bulk action split into chunks that are stored with it. The
 * `operation.run` job does the chunks in order, each in one transaction that also deletes the chunk
 * and adds its counts and failures, so each chunk is done all or nothing and exactly once, and a
 * run cut short (a crash, a kill, the database away) resumes at the first chunk left. Between chunks
 * the event loop serves requests.
 *
 * A kind (contacts.import, invitations.bulk) supplies how a chunk is done; kinds are wired at the
 * composition root (jobs/registry.ts).
 */
export const OPERATION_JOB = 'operation.run';

/** What a kind of operation supplies. */
export interface OperationKind {
  /**
   * Does one chunk inside `trx`: its changes, and what they add to the counts. An AppError ends the
   * whole operation as failed with its message (e.g. the website was deleted); other errors retry.
   */
  doChunk(
    trx: Conn,
    deps: Deps,
    op: Operation,
    chunk: { firstPosition: number; items: unknown[] },
  ): Promise<ChunkOutcome>;
  /** Runs once the last chunk is done, before the operation is marked succeeded. */
  finished?(deps: Deps, op: Operation): Promise<void>;
}

/** An operation as the API shows it: the counts, and the first failures. */
export interface OperationView extends Omit<Operation, 'actor' | 'input'> {
  input: Record<string, unknown>;
  failures: OperationFailure[];
  /** True when more failures exist than `failures` holds (GET /operations/{id}/failures has them all). */
  moreFailures: boolean;
}

const FAILURES_SHOWN = 100;

/** Chunks written per transaction while an operation is stored, the event loop turning between. */
const CHUNKS_PER_WRITE = 10;

/**
 * Stores an operation with its chunks (`chunks`: the input already split, positions counting from
 * 1), then queues it and its job in one transaction; the run starts after commit. The chunks go in
 * a few at a time so that requests get through: until the last is written the operation stands as
 * failed ("not started"), so one whose request died on the way never runs half its input.
 */
export async function startOperation(
  deps: Deps,
  actor: Actor,
  o: {
    kind: string;
    input: Record<string, unknown>;
    chunks: readonly { firstPosition: number; items: readonly unknown[] }[];
  },
): Promise<OperationView> {
  const id = newId();
  const total = o.chunks.reduce((n, c) => n + c.items.length, 0);
  const at = deps.now().toISOString();
  await repo.insertOperation(deps.db, { id, kind: o.kind, input: o.input, total, actor, at });
  for (let i = 0; i < o.chunks.length; i += CHUNKS_PER_WRITE) {
    await deps.db
      .transaction()
      .execute((trx) => repo.insertChunks(trx, id, i, o.chunks.slice(i, i + CHUNKS_PER_WRITE)));
    await turn();
  }
  const now = deps.now();
  await deps.db.transaction().execute(async (trx) => {
    await repo.markQueued(trx, id, now.toISOString());
    await enqueue(trx, now, { type: OPERATION_JOB, payload: { operationId: id } });
  });
  deps.notifyJobs();
  return getOperation(deps, id);
}

/** Splits `items` into chunks of `size`, positions counting from `firstPosition`. */
export function chunked<T>(items: readonly T[], size: number, firstPosition = 1) {
  const chunks: { firstPosition: number; items: T[] }[] = [];
  for (let i = 0; i < items.length; i += size)
    chunks.push({ firstPosition: firstPosition + i, items: items.slice(i, i + size) });
  return chunks;
}

export async function getOperation(deps: Deps, id: string): Promise<OperationView> {
  const op = await repo.findOperation(deps.db, id);
  if (!op) throw notFound('operation', id);
  const failures = await repo.findFailures(deps.db, id, { limit: FAILURES_SHOWN + 1 });
  return view(op, failures);
}

export async function listOperations(
  deps: Deps,
  q: { kind?: string; limit: number; cursor?: string },
): Promise<Page<OperationView>> {
  const rows = await repo.findOperations(deps.db, {
    kind: q.kind,
    before: decodeCursor(q.cursor),
    limit: q.limit + 1,
  });
  return toPage(
    rows.map((op) => view(op, [])),
    q.limit,
  );
}

/** The failures after position `after`, in input order. */
export async function listFailures(
  deps: Deps,
  id: string,
  q: { after?: number; limit: number },
): Promise<{ items: OperationFailure[]; nextAfter: number | null }> {
  if (!(await repo.findOperation(deps.db, id))) throw notFound('operation', id);
  const rows = await repo.findFailures(deps.db, id, { after: q.after, limit: q.limit + 1 });
  const items = rows.slice(0, q.limit);
  return { items, nextAfter: rows.length > q.limit ? (items[items.length - 1]?.position ?? null) : null };
}

function view(op: Operation, failures: OperationFailure[]): OperationView {
  const { actor: _actor, ...rest } = op;
  return {
    ...rest,
    failures: failures.slice(0, FAILURES_SHOWN),
    moreFailures: failures.length > FAILURES_SHOWN || (failures.length === 0 && op.failed > 0),
  };
}

/** A chunk someone else did first: this run stops and leaves the operation to that one. */
class ChunkTaken extends Error {}

/**
 * The `operation.run` job: does the operation's chunks in order until none is left, then marks it
 * succeeded. A chunk whose handler throws an AppError fails the operation with that message and
 * drops the chunks left; any other error leaves the chunk for the job's retry, and on the job's
 * last attempt fails the operation.
 */
export function operationRunner(kinds: ReadonlyMap<string, OperationKind>): JobHandler {
  return checkedPayload(Type.Object({ operationId: Type.String({ minLength: 1 }) }), (job, deps) =>
    runOperation(kinds, job, deps, job.payload.operationId),
  );
}

async function runOperation(
  kinds: ReadonlyMap<string, OperationKind>,
  job: Job,
  deps: Deps,
  id: string,
): Promise<void> {
  const op = await repo.findOperation(deps.db, id);
  if (!op) throw new PermanentJobError(`No operation with id ${id}.`);
  if (op.status === 'succeeded' || op.status === 'failed') return;
  const kind = kinds.get(op.kind);
  if (!kind) throw new PermanentJobError(`No handler for operations of kind ${op.kind}.`);
  const fail = async (error: string) => {
    await repo.deleteChunks(deps.db, id);
    await repo.finishOperation(deps.db, id, { status: 'failed', error }, deps.now().toISOString());
  };
  for (;;) {
    const chunk = await repo.firstChunk(deps.db, id);
    if (!chunk) break;
    let outcome: ChunkOutcome;
    try {
      outcome = await deps.db.transaction().execute(async (trx) => {
        if (!(await repo.takeChunk(trx, id, chunk.seq))) throw new ChunkTaken();
        const done = await kind.doChunk(trx, deps, op, chunk);
        await repo.recordChunk(trx, id, chunk.items.length, done, deps.now().toISOString());
        return done;
      });
    } catch (err) {
      if (err instanceof ChunkTaken) return;
      if (err instanceof AppError) return fail(err.message);
      if (!isDatabaseUnavailable(err) && job.attempts >= job.maxAttempts)
        await fail(`Stopped after ${job.attempts} attempts; the server's log has the cause.`).catch(() => {});
      throw err;
    }
    if ((outcome.queued ?? 0) > 0) deps.notifyJobs();
    await turn();
  }
  await kind.finished?.(deps, (await repo.findOperation(deps.db, id)) ?? op);
  await repo.finishOperation(deps.db, id, { status: 'succeeded' }, deps.now().toISOString());
}
