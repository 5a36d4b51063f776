import { hostname } from 'node:os';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Deps } from '../context.ts';
import { isDatabaseUnavailable, retryWhileUnavailable } from '../db/dialect.ts';
import { newId } from '../ids.ts';
import {
  claimJobs,
  completeJob,
  deadLetterUnhandled,
  extendLeases,
  failJob,
  type Job,
  pruneFinishedJobs,
  releaseJob,
} from './job.repository.ts';

export type { Job };

/** A job handler. Throwing retries with backoff; see RetryLater and PermanentJobError. */
export type JobHandler = (job: Job, deps: Deps) => Promise<void>;
export type HandlerRegistry = ReadonlyMap<string, JobHandler>;

/** Put the job back until later without counting an attempt (e.g. sending is paused). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/**
 * Put the job back at once, without counting an attempt, so that other jobs get the slot (a long
 * job's time slice). Not a failure: `onError` is not told.
 */
export class YieldToOthers extends RetryLater {
  constructor(message: string) {
    super(0, message);
    this.name = 'YieldToOthers';
  }
}

/** The job can never succeed: straight to the dead letter with this reason. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/**
 * `handler`, run only for a payload matching `schema`; any other payload is a PermanentJobError
 * naming the first mismatch (a retry could not fix it).
 */
export function checkedPayload<S extends TSchema>(
  schema: S,
  handler: (job: Job & { payload: Static<S> }, deps: Deps) => Promise<void>,
): JobHandler {
  return (job, deps) => {
    if (!Value.Check(schema, job.payload)) {
      const first = Value.Errors(schema, job.payload).First();
      throw new PermanentJobError(
        `Malformed payload: ${first ? `${first.path || '/'} ${first.message}` : 'does not match its type'}`,
      );
    }
    return handler(job as Job & { payload: Static<S> }, deps);
  };
}

export interface WorkerOptions {
  /** Jobs run at the same time (default 4). */
  concurrency?: number;
  /** How long a claimed job stays ours without a heartbeat (default 30 s). */
  leaseMs?: number;
  /** Idle wait between claims when the queue is empty (default 250 ms). */
  pollMs?: number;
  /** Retry backoff: base * 2^(attempt-1), capped, with jitter (defaults 2 s and 10 min). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  workerId?: string;
  /** Finished and dead jobs older than this are deleted (default 14 days). */
  retentionMs?: number;
  /** A queued job no handler knows, due for longer than this, is dead-lettered (default 5 min). */
  unhandledAfterMs?: number;
  /** More upkeep of the same rhythm (a module's retention), each told the time. */
  sweeps?: readonly ((deps: Deps, now: Date) => Promise<unknown>)[];
  /** How often the sweeps run (the two above and `sweeps`), and once at start (default 10 min). */
  maintenanceMs?: number;
  onError?: (err: unknown, job?: Job) => void;
}

/** How often a worker tries again to record a job's outcome while the database is away. */
const SETTLE_RETRY_MS = 500;
/** The longest wait between lease renewals. */
const HEARTBEAT_MAX_MS = 1_000;

/** Capped exponential backoff with "equal jitter": half fixed, half random. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/**
 * The worker loop: claims due jobs (leases them), runs their handlers, keeps the leases alive with
 * a heartbeat, and records success, retry with backoff, or the dead letter. Several workers, in one
 * process or many, share the table safely. `stop()` stops claiming and waits for the jobs in flight.
 */
export class Worker {
  readonly id: string;
  private readonly inFlight = new Map<string, Promise<void>>();
  private running = false;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private maintenance: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly o: Required<Omit<WorkerOptions, 'workerId' | 'onError'>> & Pick<WorkerOptions, 'onError'>;

  constructor(
    private readonly deps: Deps,
    private readonly handlers: HandlerRegistry,
    options: WorkerOptions = {},
  ) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${newId().slice(-8)}`;
    this.o = {
      concurrency: options.concurrency ?? 4,
      leaseMs: options.leaseMs ?? 30_000,
      pollMs: options.pollMs ?? 250,
      backoffBaseMs: options.backoffBaseMs ?? 2_000,
      backoffCapMs: options.backoffCapMs ?? 600_000,
      retentionMs: options.retentionMs ?? 14 * 86_400_000,
      unhandledAfterMs: options.unhandledAfterMs ?? 300_000,
      maintenanceMs: options.maintenanceMs ?? 600_000,
      sweeps: options.sweeps ?? [],
      onError: options.onError,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Often enough that, after a database outage, the holder renews its leases before the takeover
    // grace (job.repository.ts) lets another worker claim them.
    this.heartbeat = setInterval(
      () => void this.renewLeases(),
      Math.max(50, Math.min(HEARTBEAT_MAX_MS, Math.floor(this.o.leaseMs / 3))),
    );
    this.maintenance = setInterval(() => void this.sweep(), this.o.maintenanceMs);
    void this.sweep();
    this.loop = this.run();
  }

  /** Claims again now instead of after the idle wait (after enqueueing in this process). */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.nudge();
    await this.loop;
    await Promise.allSettled(this.inFlight.values());
    clearInterval(this.heartbeat);
    clearInterval(this.maintenance);
  }

  /** Dead-letters jobs nothing handles and prunes old finished ones; errors go to onError. */
  private async sweep(): Promise<void> {
    try {
      const now = this.deps.now();
      await deadLetterUnhandled(
        this.deps.db,
        [...this.handlers.keys()],
        new Date(now.getTime() - this.o.unhandledAfterMs).toISOString(),
        now.toISOString(),
      );
      await pruneFinishedJobs(this.deps.db, new Date(now.getTime() - this.o.retentionMs).toISOString());
    } catch (err) {
      this.o.onError?.(err);
    }
    for (const sweep of this.o.sweeps)
      await sweep(this.deps, this.deps.now()).catch((err: unknown) => this.o.onError?.(err));
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.o.concurrency - this.inFlight.size;
      let claimed: Job[] = [];
      if (free > 0) {
        try {
          const now = this.deps.now();
          claimed = await claimJobs(this.deps.db, {
            types: [...this.handlers.keys()],
            // A job still running here is never claimed again here, whatever its lease says.
            exclude: [...this.inFlight.keys()],
            limit: free,
            workerId: this.id,
            now: now.toISOString(),
            leaseUntil: new Date(now.getTime() + this.o.leaseMs).toISOString(),
          });
        } catch (err) {
          this.o.onError?.(err);
        }
      }
      for (const job of claimed) {
        const done = this.execute(job).finally(() => {
          this.inFlight.delete(job.id);
          this.nudge();
        });
        this.inFlight.set(job.id, done);
      }
      if (claimed.length === 0 || this.inFlight.size >= this.o.concurrency) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.o.pollMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private async execute(job: Job): Promise<void> {
    const handler = this.handlers.get(job.type);
    const at = () => this.deps.now();
    let outcome: unknown = null;
    try {
      if (!handler) throw new PermanentJobError(`No handler for job type ${job.type}`);
      if (job.payloadError) throw new PermanentJobError(`Malformed payload: ${job.payloadError}`);
      await handler(job, this.deps);
    } catch (err) {
      if (!(err instanceof YieldToOthers)) this.o.onError?.(err, job);
      outcome = err;
    }
    await this.settle(job, async () => {
      const now = at();
      const err = outcome;
      if (err === null) return completeJob(this.deps.db, job.id, this.id, now.toISOString());
      // A database outage is nobody's fault: the job waits without spending an attempt.
      const waitMs = err instanceof RetryLater ? err.delayMs : isDatabaseUnavailable(err) ? 1_000 : null;
      if (waitMs !== null)
        return releaseJob(
          this.deps.db,
          job.id,
          this.id,
          new Date(now.getTime() + waitMs).toISOString(),
          now.toISOString(),
        );
      const dead = err instanceof PermanentJobError || job.attempts >= job.maxAttempts;
      const delay = backoffMs(job.attempts, this.o.backoffBaseMs, this.o.backoffCapMs);
      return failJob(this.deps.db, job.id, this.id, {
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        runAt: new Date(now.getTime() + delay).toISOString(),
        dead,
        now: now.toISOString(),
      });
    });
  }

  /**
   * Writes a job's outcome, trying again while the database cannot be reached (for up to twice the
   * lease; after that another worker's claim retries the job, and this write, guarded by the lease
   * holder, changes nothing).
   */
  private async settle(job: Job, write: () => Promise<void>): Promise<void> {
    await retryWhileUnavailable(write, {
      firstMs: SETTLE_RETRY_MS,
      capMs: SETTLE_RETRY_MS,
      giveUpMs: 2 * this.o.leaseMs,
      onWait: (err) => this.o.onError?.(err, job),
    }).catch((err: unknown) => this.o.onError?.(err, job));
  }

  private async renewLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    try {
      const until = new Date(this.deps.now().getTime() + this.o.leaseMs).toISOString();
      await extendLeases(this.deps.db, this.id, [...this.inFlight.keys()], until);
    } catch (err) {
      this.o.onError?.(err);
    }
  }
}
