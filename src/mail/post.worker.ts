import { serveThreadRequests, thisThread, threadData } from '../threads.ts';
import { composeAndSend, renderOnly, senderFor } from './post.send.ts';
import type { PostNote, PostReply, PostRequest, TransportSpec } from './post.ts';

/**
 * Worker-thread entry of the post (post.ts): composes each message and sends it with this thread's
 * own transport (its share of the SMTP connections) and sending window. Only the stored copy and the
 * outcome go back; the main thread's note `recorded` then frees the accepted message's place.
 */
const sender = senderFor(threadData<TransportSpec>());

serveThreadRequests(
  async ({ op, request }: PostRequest): Promise<{ result: PostReply }> => {
    const thread = thisThread();
    if (op === 'render') return { result: { stored: renderOnly(request), thread } };
    const posted = await composeAndSend(sender, request);
    return {
      result: posted.error
        ? {
            stored: posted.stored,
            thread,
            error: { failure: posted.error.failure, message: posted.error.message },
          }
        : { stored: posted.stored, thread, response: posted.response },
    };
  },
  (note) => {
    if ((note as PostNote) === 'recorded') sender.window.release();
  },
);
