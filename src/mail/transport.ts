import { type ComposeRequest, compose } from './compose.ts';
import type { Rendered } from './liquid.ts';
import { MailError, type Mailer } from './mailer.ts';
import { outboxMailer } from './outbox.ts';
import { smtpMailer } from './smtp.ts';
import { SendingWindow } from './window.ts';

/**
 * Where a message is composed and handed to the mail server: a transport (SMTP or the outbox) with
 * its sending window. Loaded only where that work runs (the mail threads, or the main thread with
 * ADMIT_COMPOSE_THREADS=0), so a main thread that hands mail to threads loads neither nodemailer nor
 * the MIME code.
 */

/** The transport, as data, so that each mail thread builds its own. */
export type TransportSpec =
  | { kind: 'smtp'; url: string; connections: number }
  | { kind: 'outbox'; dir: string };

/** What became of one message: accepted with the server's reply, or not, with why. */
export type Outcome =
  | { stored: Rendered; response: string; error?: undefined }
  | { stored: Rendered; error: MailError };

/** A transport and its sending window (window.ts). */
export interface Transport {
  mailer: Mailer;
  window: SendingWindow;
}

export const transportFor = (spec: TransportSpec): Transport => {
  const mailer = spec.kind === 'smtp' ? smtpMailer(spec.url, spec.connections) : outboxMailer(spec.dir);
  return { mailer, window: new SendingWindow(mailer.parallelism) };
};

/**
 * Composes the message and sends it. A message not accepted gives its slot in the window back at
 * once; an accepted one keeps it until the caller, having recorded it, calls `window.release()`.
 * Throws only when the message cannot be composed (a template that does not render).
 */
export async function composeAndSend(
  { mailer, window }: Transport,
  request: ComposeRequest,
): Promise<Outcome> {
  const { raw, stored } = compose(request);
  const slot = window.slot();
  try {
    const { response } = await mailer.send(request.envelope, raw, slot);
    return { stored, response };
  } catch (err) {
    slot.leave();
    return { stored, error: err instanceof MailError ? err : new MailError('connection', String(err)) };
  }
}

/** The stored copy (secrets masked) of a message, composed but not sent. */
export const renderOnly = (request: ComposeRequest): Rendered => compose(request).stored;
