import { parentPort, threadId, Worker, workerData } from 'node:worker_threads';

interface Slot {
  index: number;
  worker: Worker;
  inFlight: number;
}

/**
 * The module `name` beside `of` (an `import.meta.url`), as it runs: `.ts` under tsx, `.js` compiled;
 * the entry of a ThreadPool.
 */
export const siblingModule = (of: string, name: string): URL =>
  new URL(`./${name}${of.endsWith('.ts') ? '.ts' : '.js'}`, of);

/**
 * A thread's young generation, in MB (V8 sizes it like the main thread's otherwise, and keeps what
 * it once used). A mail thread's garbage is a message being composed, dead within a millisecond, so
 * a small young generation collects it as well and keeps the peak RSS lower (decision 0021).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * Worker threads for CPU-heavy work that must stay off the event loop (composing messages, hashing
 * passwords). A request goes to the thread with the fewest in flight; its answer comes back by id.
 *
 * `entry` is the worker module as compiled (`….js`, what `npm start` runs). Under tsx (tests,
 * `npm run admit`) a worker cannot load TypeScript by itself, so it starts `worker-bootstrap.mjs`,
 * which registers tsx and imports the `.ts` source.
 */
export class ThreadPool<Request, Result> {
  private readonly slots: Slot[];
  private readonly pending = new InFlight<{
    resolve: (r: Result) => void;
    reject: (e: Error) => void;
    slot: Slot;
  }>();
  private closed = false;

  /** `data(i)` is what thread `i` reads with threadData() (cloned; e.g. its own configuration). */
  constructor(
    private readonly entry: URL,
    size: number,
    private readonly data: (index: number) => unknown = () => undefined,
  ) {
    this.slots = Array.from({ length: size }, (_, index) => {
      const slot = { index, inFlight: 0 } as Slot;
      this.start(slot);
      return slot;
    });
  }

  /** Starts the slot's thread; a thread that dies fails its requests and is replaced. */
  private start(slot: Slot): void {
    const data = this.data(slot.index);
    const [url, workerData] = this.entry.pathname.endsWith('.ts')
      ? [new URL('./worker-bootstrap.mjs', import.meta.url), { entry: this.entry.href, data }]
      : [this.entry, { data }];
    const worker = new Worker(url, { workerData, resourceLimits: THREAD_LIMITS });
    slot.worker = worker;
    worker.on('message', (m: { id: number; result?: Result; error?: string }) => {
      const p = this.pending.take(m.id, (p) => p.slot === slot);
      if (!p) return;
      if (--slot.inFlight === 0) worker.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result as Result);
    });
    const fail = (err: Error) => {
      for (const id of this.pending.ids()) this.pending.take(id, (p) => p.slot === slot)?.reject(err);
      slot.inFlight = 0;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.closed) return;
      fail(new Error(`worker thread exited (code ${code})`));
      this.start(slot);
    });
    // An idle thread keeps no process alive; a busy one does, until its answers are in. (After the
    // listeners: adding a 'message' listener refs the thread again.)
    worker.unref();
  }

  /** Runs a request on the thread with the fewest in flight; rejects if that thread fails or dies. */
  run(request: Request): Promise<Result> {
    let slot = this.slots[0] as Slot;
    for (const w of this.slots) if (w.inFlight < slot.inFlight) slot = w;
    if (slot.inFlight++ === 0) slot.worker.ref();
    return new Promise<Result>((resolve, reject) => {
      const id = this.pending.add({ resolve, reject, slot });
      slot.worker.postMessage({ id, request });
    });
  }

  /**
   * Sends `note` to the thread whose `threadId` this is, without an answer. A thread that has died
   * since is gone with its state, and the note is dropped.
   */
  tell(thread: number, note: unknown): void {
    this.slots.find((s) => s.worker.threadId === thread)?.worker.postMessage({ note });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * The requests in flight, by id: an array whose entries are cleared and reused in place. Not a Map:
 * a Map under steady churn rebuilds its hash table, and a discarded table that reached the old
 * generation keeps the answers it pointed at alive past the next scavenge (decision 0021).
 */
class InFlight<T> {
  private readonly entries: (T | undefined)[] = [];
  private readonly free: number[] = [];

  add(entry: T): number {
    const id = this.free.pop() ?? this.entries.length;
    this.entries[id] = entry;
    return id;
  }

  /** Removes and returns the entry `id` if there is one and `accept` holds for it. */
  take(id: number, accept: (entry: T) => boolean): T | undefined {
    const entry = this.entries[id];
    if (entry === undefined || !accept(entry)) return undefined;
    this.entries[id] = undefined;
    this.free.push(id);
    return entry;
  }

  ids(): number[] {
    return [...this.entries.keys()];
  }
}

/** In a pool's thread: the data its pool gave it. */
export const threadData = <T>(): T => (workerData as { data: T }).data;

/** In a pool's thread: its id, as the pool's `tell` names it. */
export const thisThread = (): number => threadId;

/**
 * The worker's side: answers each request with `handle`'s result (and transfers what it lists),
 * or with the error's message; passes the pool's notes (`tell`) to `onNote`.
 */
export function serveThreadRequests<Request, Result>(
  handle: (request: Request) => Promise<{ result: Result; transfer?: ArrayBuffer[] }>,
  onNote?: (note: unknown) => void,
): void {
  parentPort?.on('message', async (m: { id: number; request: Request } | { note: unknown }) => {
    if ('note' in m) return onNote?.(m.note);
    const { id, request } = m;
    try {
      const { result, transfer } = await handle(request);
      parentPort?.postMessage({ id, result }, transfer ?? []);
    } catch (err) {
      parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
