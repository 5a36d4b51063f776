import { serveThreadRequests, threadData } from '../threads.ts';
import { compose } from './compose.ts';
import {
  composeAndSend,
  type PostReply,
  type PostRequest,
  type TransportSpec,
  transportFor,
} from './post.ts';

/**
 * Worker-thread entry of the post (post.ts): composes each message and sends it with this thread's
 * own transport (its share of the SMTP connections). Only the stored copy and the outcome go back.
 */
const mailer = transportFor(threadData<TransportSpec>());

serveThreadRequests(async ({ op, request }: PostRequest): Promise<{ result: PostReply }> => {
  if (op === 'render') return { result: { stored: compose(request).stored } };
  const posted = await composeAndSend(mailer, request);
  return {
    result: posted.error
      ? { stored: posted.stored, error: { failure: posted.error.failure, message: posted.error.message } }
      : { stored: posted.stored, response: posted.response },
  };
});
