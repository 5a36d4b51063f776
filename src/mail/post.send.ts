import { type ComposeRequest, compose } from './compose.ts';
import { MailError, type Mailer } from './mailer.ts';
import { outboxMailer } from './outbox.ts';
import type { Posted, TransportSpec } from './post.ts';
import { smtpMailer } from './smtp.ts';

/**
 * The post's work (post.ts): build a thread's transport, compose a message and send it. Loaded only
 * where that work runs (the mail threads, or the main thread with ADMIT_COMPOSE_THREADS=0), so a
 * main thread that hands mail to threads carries neither nodemailer nor the MIME code.
 */
export const transportFor = (spec: TransportSpec): Mailer =>
  spec.kind === 'smtp' ? smtpMailer(spec.url, spec.connections) : outboxMailer(spec.dir);

/** Composes and sends with `mailer`: the work of one thread, or of the main thread alone. */
export async function composeAndSend(mailer: Mailer, request: ComposeRequest): Promise<Posted> {
  const { raw, stored } = compose(request);
  try {
    const { response } = await mailer.send(request.envelope, raw);
    return { stored, response };
  } catch (err) {
    return { stored, error: err instanceof MailError ? err : new MailError('connection', String(err)) };
  }
}

export const renderOnly = (request: ComposeRequest) => compose(request).stored;
