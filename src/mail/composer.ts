import { Worker } from 'node:worker_threads';
import { type Composed, type ComposeRequest, compose } from './compose.ts';

/**
 * Where messages are composed. Node runs our JavaScript on one core; rendering and MIME building
 * are most of the CPU a send costs, so on a machine with more cores they run in worker threads and
 * the main thread is left with the database and the sockets.
 */
export interface Composer {
  compose(request: ComposeRequest): Promise<Composed>;
  close(): Promise<void>;
}

export const inlineComposer = (): Composer => ({ compose, close: async () => {} });

/**
 * The thread's entry: the compiled `compose.worker.js` when we run compiled (npm start), else a
 * bootstrap that loads the TypeScript source through tsx (tests, npm run admit).
 */
const workerEntry = new URL(
  import.meta.url.endsWith('.ts') ? './compose.worker.mjs' : './compose.worker.js',
  import.meta.url,
);

export function threadComposer(threads: number): Composer {
  const workers = Array.from({ length: threads }, () => new Worker(workerEntry));
  const pending = new Map<number, { resolve: (c: Composed) => void; reject: (e: Error) => void }>();
  let next = 0;
  for (const w of workers) {
    w.unref();
    w.on('message', (m: { id: number; raw?: Uint8Array; stored?: Composed['stored']; error?: string }) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (!p) return;
      if (m.error !== undefined || !m.raw || !m.stored) p.reject(new Error(`composing failed: ${m.error}`));
      else p.resolve({ raw: m.raw, stored: m.stored });
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  }
  return {
    compose(request) {
      const id = next++;
      const worker = workers[id % workers.length] as Worker;
      return new Promise<Composed>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, request });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** `threads` worker threads (ADMIT_COMPOSE_THREADS; default one less than the cores, at most 4), or inline. */
export const composerFor = (threads: number): Composer =>
  threads >= 1 ? threadComposer(threads) : inlineComposer();
