import { setImmediate as turn } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { isDatabaseUnavailable } from '../../db/dialect.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import {
  checkedPayload,
  type Job,
  type JobHandler,
  PermanentJobError,
  RetryLater,
  YieldToOthers,
} from '../../jobs/worker.ts';
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
  /**
   * Runs when the items done pass 1,024, 2,048, 4,096, … (for PostgreSQL's planner statistics of
   * the tables the chunks fill, which otherwise still describe them as small), and once the last
   * chunk is done, before the operation is marked succeeded.
   */
  grown?(deps: Deps): Promise<void>;
}

/** An operation as the API shows it: the counts, and the first failures. */
export interface OperationView extends Omit<Operation, 'actor' | 'input'> {
  input: Record<string, unknown>;
  failures: OperationFailure[];
  /** True when more failures exist than `failures` holds (GET /operations/{id}/failures has them all). */
  moreFailures: boolean;
}

const FAILURES_SHOWN = 100;
/**
 * How long a run does chunks before it puts its job back (at once, without spending an attempt):
 * other jobs (emails) get the worker's slot in between, and a stopping worker waits at most this.
 */
const SLICE_MS = 2_000;

/** Chunks written per transaction while an operation is stored, the event loop turning between. */
const CHUNKS_PER_WRITE = 10;

/** A run of items of an operation's input; positions count from 1 (a CSV line, a list index). */
export interface Chunk {
  firstPosition: number;
  items: unknown[];
}

/**
 * Stores an operation with its input, `chunks` (as the caller reads them, e.g. from a CSV stream:
 * only CHUNKS_PER_WRITE are held at a time), then queues it and its job in one transaction; the
 * run starts after commit. Until then the operation stands as failed ("not started"), so one whose
 * request died on the way never runs half its input. If reading the input throws (a malformed
 * CSV), or it is empty (VALIDATION_FAILED `empty`), the operation is deleted and the error thrown.
 */
export async function startOperation(
  deps: Deps,
  actor: Actor,
  o: {
    kind: string;
    input: Record<string, unknown>;
    chunks: AsyncIterable<Chunk> | Iterable<Chunk>;
    empty: string;
    /** The most items the input may hold, and what to say past it (VALIDATION_FAILED). */
    max?: { items: number; message: string };
  },
): Promise<OperationView> {
  const id = newId();
  await repo.insertOperation(deps.db, {
    id,
    kind: o.kind,
    input: o.input,
    total: 0,
    actor,
    at: deps.now().toISOString(),
  });
  try {
    let total = 0;
    let seq = 0;
    let batch: Chunk[] = [];
    const write = async () => {
      const chunks = batch;
      batch = [];
      await deps.db.transaction().execute((trx) => repo.insertChunks(trx, id, seq, chunks));
      seq += chunks.length;
      await turn();
    };
    for await (const chunk of o.chunks) {
      batch.push(chunk);
      total += chunk.items.length;
      if (o.max && total > o.max.items) throw new AppError('VALIDATION_FAILED', o.max.message);
      if (batch.length === CHUNKS_PER_WRITE) await write();
    }
    if (batch.length > 0) await write();
    if (total === 0) throw new AppError('VALIDATION_FAILED', o.empty);
    const now = deps.now();
    await deps.db.transaction().execute(async (trx) => {
      await repo.markQueued(trx, id, total, now.toISOString());
      await enqueue(trx, now, { type: OPERATION_JOB, payload: { operationId: id } });
    });
  } catch (err) {
    await repo.deleteOperation(deps.db, id).catch(() => {});
    throw err;
  }
  deps.notifyJobs();
  return getOperation(deps, id);
}

/**
 * `items` in chunks of `size`, as they come; each chunk's first position is `positionOf` its first
 * item (by default the item's index from 1).
 */
export async function* chunked<T>(
  items: AsyncIterable<T> | Iterable<T>,
  size: number,
  positionOf: (item: T, index: number) => number = (_item, index) => index + 1,
): AsyncGenerator<Chunk> {
  let chunk: T[] = [];
  let first = 0;
  let index = 0;
  for await (const item of items) {
    if (chunk.length === 0) first = positionOf(item, index);
    chunk.push(item);
    index += 1;
    if (chunk.length === size) {
      yield { firstPosition: first, items: chunk };
      chunk = [];
    }
  }
  if (chunk.length > 0) yield { firstPosition: first, items: chunk };
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

/** A chunk someone else did first (a lease taken over): this run steps back for a while. */
class ChunkTaken extends Error {}
/** How long a run that met another one waits before it looks again (it resumes if that one died). */
const TAKEN_RETRY_MS = 5_000;

/**
 * The `operation.run` job: does the operation's chunks in order until none is left, then marks it
 * succeeded. Every SLICE_MS it puts itself back in the queue (YieldToOthers) and goes on when claimed
 * again, so an operation never holds a worker's slot for long. A chunk whose handler throws an AppError fails the operation with that message and
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
  let done = op.done;
  const sliceEnds = Date.now() + SLICE_MS;
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
      if (err instanceof ChunkTaken)
        throw new RetryLater(TAKEN_RETRY_MS, 'Another run did this chunk; looking again later.');
      if (err instanceof AppError) return fail(err.message);
      if (!isDatabaseUnavailable(err) && job.attempts >= job.maxAttempts)
        await fail(`Stopped after ${job.attempts} attempts; the server's log has the cause.`).catch(() => {});
      throw err;
    }
    if ((outcome.queued ?? 0) > 0) deps.notifyJobs();
    const before = done;
    done += chunk.items.length;
    if (done >= 1024 && Math.floor(Math.log2(done)) > Math.floor(Math.log2(Math.max(1, before))))
      await kind.grown?.(deps);
    if (Date.now() > sliceEnds) throw new YieldToOthers('Giving the worker to other jobs; going on at once.');
    await turn();
  }
  await kind.grown?.(deps);
  await repo.finishOperation(deps.db, id, { status: 'succeeded' }, deps.now().toISOString());
}
