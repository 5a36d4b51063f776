import { parentPort } from 'node:worker_threads';
import { type ComposeRequest, compose } from './compose.ts';

/** Worker-thread entry of the composer pool: compose requests in, messages out (bytes transferred). */
parentPort?.on('message', async ({ id, request }: { id: number; request: ComposeRequest }) => {
  try {
    const composed = await compose(request);
    const raw = composed.raw.slice();
    parentPort?.postMessage({ id, raw, stored: composed.stored }, [raw.buffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
