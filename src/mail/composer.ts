import { siblingModule, ThreadPool } from '../threads.ts';
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

/** `threads` worker threads composing (compose.worker.ts). */
export function threadComposer(threads: number): Composer {
  const pool = new ThreadPool<ComposeRequest, Composed>(
    siblingModule(import.meta.url, 'compose.worker'),
    threads,
  );
  return { compose: (request) => pool.run(request), close: () => pool.close() };
}

/** `threads` worker threads (ADMIT_COMPOSE_THREADS; default one less than the cores, at most 4), or inline. */
export const composerFor = (threads: number): Composer =>
  threads >= 1 ? threadComposer(threads) : inlineComposer();
