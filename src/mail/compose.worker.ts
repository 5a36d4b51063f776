import { serveThreadRequests } from '../threads.ts';
import { type ComposeRequest, compose } from './compose.ts';

/** Worker-thread entry of the composer pool: compose requests in, messages out (bytes transferred). */
serveThreadRequests(async (request: ComposeRequest) => {
  const composed = await compose(request);
  const raw = composed.raw.slice();
  return { result: { raw, stored: composed.stored }, transfer: [raw.buffer] };
});
