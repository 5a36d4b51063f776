import { parentPort, Worker, workerData } from 'node:worker_threads';

interface Slot {
  index: number;
  worker: Worker;
  inFlight: number;
}

/**
 * Worker threads for CPU-heavy work that must stay off the event loop (composing messages, hashing
 * passwords). A request goes to the thread with the fewest in flight; its answer comes back by id.
 *
 * `entry` is the worker module as compiled (`….js`, what `npm start` runs). Under tsx (tests,
 * `npm run admit`) a worker cannot load TypeScript by itself, so it starts `worker-bootstrap.mjs`,
 * which registers tsx and imports the `.ts` source.
 */
/**
 * The module `name` beside `of` (an `import.meta.url`), as it runs: `.ts` under tsx, `.js` compiled;
 * the entry of a ThreadPool.
 */
export const siblingModule = (of: string, name: string): URL =>
  new URL(`./${name}${of.endsWith('.ts') ? '.ts' : '.js'}`, of);

export class ThreadPool<Request, Result> {
  private readonly slots: Slot[];
  private readonly pending = new Map<
    number,
    { resolve: (r: Result) => void; reject: (e: Error) => void; slot: Slot }
  >();
  private next = 0;
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
    const worker = this.entry.pathname.endsWith('.ts')
      ? new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), {
          workerData: { entry: this.entry.href, data },
        })
      : new Worker(this.entry, { workerData: { data } });
    slot.worker = worker;
    worker.on('message', (m: { id: number; result?: Result; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (--slot.inFlight === 0) worker.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result as Result);
    });
    const fail = (err: Error) => {
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(err);
      }
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

  run(request: Request): Promise<Result> {
    const id = this.next++;
    let slot = this.slots[0] as Slot;
    for (const w of this.slots) if (w.inFlight < slot.inFlight) slot = w;
    if (slot.inFlight++ === 0) slot.worker.ref();
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** In a pool's thread: the data its pool gave it. */
export const threadData = <T>(): T => (workerData as { data: T }).data;

/**
 * The worker's side: answers each request with `handle`'s result (and transfers what it lists),
 * or with the error's message.
 */
export function serveThreadRequests<Request, Result>(
  handle: (request: Request) => Promise<{ result: Result; transfer?: ArrayBuffer[] }>,
): void {
  parentPort?.on('message', async ({ id, request }: { id: number; request: Request }) => {
    try {
      const { result, transfer } = await handle(request);
      parentPort?.postMessage({ id, result }, transfer ?? []);
    } catch (err) {
      parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
