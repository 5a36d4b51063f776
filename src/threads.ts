import { parentPort, Worker } from 'node:worker_threads';

/**
 * Worker threads for CPU-heavy work that must stay off the event loop (composing messages, hashing
 * passwords). A request goes to the thread with the fewest in flight; its answer comes back by id.
 *
 * `entry` is the worker module as compiled (`….js`, what `npm start` runs). Under tsx (tests,
 * `npm run admit`) a worker cannot load TypeScript by itself, so it starts `worker-bootstrap.mjs`,
 * which registers tsx and imports the `.ts` source.
 */
export class ThreadPool<Request, Result> {
  private readonly workers: { worker: Worker; inFlight: number }[];
  private readonly pending = new Map<
    number,
    { resolve: (r: Result) => void; reject: (e: Error) => void; slot: { worker: Worker; inFlight: number } }
  >();
  private next = 0;

  constructor(entry: URL, size: number) {
    const underTsx = entry.pathname.endsWith('.ts');
    this.workers = Array.from({ length: size }, () => {
      const worker = underTsx
        ? new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), {
            workerData: { entry: entry.href },
          })
        : new Worker(entry);
      const slot = { worker, inFlight: 0 };
      worker.on('message', (m: { id: number; result?: Result; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (--p.slot.inFlight === 0) p.slot.worker.unref();
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result as Result);
      });
      worker.on('error', (err) => {
        for (const [id, p] of this.pending) {
          if (p.slot !== slot) continue;
          this.pending.delete(id);
          if (--slot.inFlight === 0) worker.unref();
          p.reject(err);
        }
      });
      // An idle thread keeps no process alive; a busy one does, until its answers are in. (After the
      // listeners: adding a 'message' listener refs the thread again.)
      worker.unref();
      return slot;
    });
  }

  run(request: Request): Promise<Result> {
    const id = this.next++;
    let slot = this.workers[0] as { worker: Worker; inFlight: number };
    for (const w of this.workers) if (w.inFlight < slot.inFlight) slot = w;
    if (slot.inFlight++ === 0) slot.worker.ref();
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

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
