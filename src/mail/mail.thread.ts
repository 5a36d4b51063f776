import { serveThreadRequests, thisThread, threadData } from '../threads.ts';
import type { MailReply, MailRequest } from './mail.ts';
import { composeAndSend, renderOnly, type TransportSpec, transportFor } from './transport.ts';

/**
 * A mail thread (mail.ts): composes each message and sends it with this thread's own transport (its
 * part of the SMTP connections) and sending window. Only the stored copy and the outcome go back;
 * the main thread's note `'recorded'`, one per accepted message, then frees its slot in the window.
 */
const transport = transportFor(threadData<TransportSpec>());

serveThreadRequests(
  async ({ op, request }: MailRequest): Promise<{ result: MailReply }> => {
    const thread = thisThread();
    if (op === 'render') return { result: { stored: renderOnly(request), thread } };
    const outcome = await composeAndSend(transport, request);
    if (!outcome.error) return { result: { stored: outcome.stored, thread, response: outcome.response } };
    const { failure, message, responseCode } = outcome.error;
    return { result: { stored: outcome.stored, thread, error: { failure, message, responseCode } } };
  },
  () => transport.window.release(),
);
