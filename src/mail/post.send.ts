import { type ComposeRequest, compose } from './compose.ts';
import { MailError, type Mailer } from './mailer.ts';
import { outboxMailer } from './outbox.ts';
import type { Posted, TransportSpec } from './post.ts';
import { smtpMailer } from './smtp.ts';
import { Window } from './window.ts';

/**
 * The post's work (post.ts): build a thread's transport, compose a message and send it. Loaded only
 * where that work runs (the mail threads, or the main thread with ADMIT_COMPOSE_THREADS=0), so a
 * main thread that hands mail to threads carries neither nodemailer nor the MIME code.
 */

/** A transport and its sending window (window.ts). */
export interface Sender {
  mailer: Mailer;
  window: Window;
}

export const senderFor = (spec: TransportSpec): Sender => {
  const mailer = spec.kind === 'smtp' ? smtpMailer(spec.url, spec.connections) : outboxMailer(spec.dir);
  return { mailer, window: new Window(mailer.parallelism) };
};

/**
 * Composes and sends. A message not accepted gives its place in the window back at once; an
 * accepted one keeps it until the caller, having recorded it, calls `window.release()`.
 */
export async function composeAndSend({ mailer, window }: Sender, request: ComposeRequest): Promise<Posted> {
  const { raw, stored } = compose(request);
  const place = window.place();
  try {
    const { response } = await mailer.send(request.envelope, raw, place);
    return { stored, response };
  } catch (err) {
    place.leave();
    return { stored, error: err instanceof MailError ? err : new MailError('connection', String(err)) };
  }
}

export const renderOnly = (request: ComposeRequest) => compose(request).stored;
