import { serveThreadRequests, threadData } from '../threads.ts';
import { composeAndSend, renderOnly, transportFor } from './post.send.ts';
import type { PostReply, PostRequest, TransportSpec } from './post.ts';

/**
 * Worker-thread entry of the post (post.ts): composes each message and sends it with this thread's
 * own transport (its share of the SMTP connections). Only the stored copy and the outcome go back.
 */
const mailer = transportFor(threadData<TransportSpec>());

serveThreadRequests(async ({ op, request }: PostRequest): Promise<{ result: PostReply }> => {
  if (op === 'render') return { result: { stored: renderOnly(request) } };
  const posted = await composeAndSend(mailer, request);
  return {
    result: posted.error
      ? { stored: posted.stored, error: { failure: posted.error.failure, message: posted.error.message } }
      : { stored: posted.stored, response: posted.response },
  };
});
