import { serveThreadRequests, thisThread, threadData } from '../threads.ts';
import type { MailReply, MailRequest } from './mail.ts';
import { composeAndSend, renderOnly, type TransportSpec, transportFor } from './transport.ts';

/**
 * A mail thread (mail.ts): composes each message and sends it with this thread's own transport (its
 * part of the SMTP connections) and sending window. Only the stored copy and the outcome go back;
 * the main thread's note `'recorded'`, one per accepted message, then frees its slot in the window.
 */
const transport = transportFor(threadData<TransportSpec>());

/**
 * One message composed per turn of the event loop: requests arrive in bursts (every lane at once
 * when a job starts), and composed back to back they would hold up the server replies waiting on
 * the sockets, and the window slots those replies free. The thread reads its sockets between two
 * composes (decision 0021).
 */
const turns: (() => void)[] = [];
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => {
    if (turns.push(resolve) === 1) setImmediate(takeTurn);
  });
function takeTurn(): void {
  turns.shift()?.();
  if (turns.length > 0) setImmediate(takeTurn);
}

serveThreadRequests(
  async ({ op, request }: MailRequest): Promise<{ result: MailReply }> => {
    const thread = thisThread();
    if (op === 'render') return { result: { stored: renderOnly(request), thread } };
    await nextTurn();
    const outcome = await composeAndSend(transport, request);
    if (!outcome.error) return { result: { stored: outcome.stored, thread, response: outcome.response } };
    const { failure, message, responseCode } = outcome.error;
    return { result: { stored: outcome.stored, thread, error: { failure, message, responseCode } } };
  },
  () => transport.window.release(),
);
