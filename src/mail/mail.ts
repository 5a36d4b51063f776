import { siblingModule, ThreadPool } from '../threads.ts';
import type { ComposeRequest } from './compose.ts';
import type { Rendered } from './liquid.ts';
import { MailError, type MailFailure, SMTP_POOL_SIZE } from './mailer.ts';
import { OUTBOX_PARALLELISM } from './outbox.ts';
import type { Outcome, TransportSpec } from './transport.ts';

export type { Outcome, TransportSpec };

/**
 * What services call to send mail (`deps.mail`): compose a message and hand it to the transport in
 * one step. With mail threads (ADMIT_COMPOSE_THREADS ≥ 1) both run on worker threads (mail.thread.ts),
 * each with its part of the SMTP connections, and the main thread keeps the database; the raw
 * message never crosses threads, only the request, the stored copy and the outcome.
 */
export interface Mail {
  readonly kind: 'smtp' | 'outbox';
  /** How many messages may be in flight at once (the SMTP connections, in all threads). */
  readonly parallelism: number;
  /**
   * Composes the message, sends it, and hands the outcome to `record`, returning what it returns.
   * Rejects when the message cannot be composed; a transport failure is an outcome with `error`.
   * An accepted message keeps its slot in the sending window until `record` has settled, so at most
   * `parallelism` messages are accepted and not yet recorded: all that a crash can send twice.
   */
  sendAndRecord<T>(request: ComposeRequest, record: (outcome: Outcome) => Promise<T>): Promise<T>;
  /** Composes only: the stored copy (secrets masked), as a send would store it. */
  render(request: ComposeRequest): Promise<Rendered>;
  close(): Promise<void>;
}

/** SMTP when SMTP_URL is set, else the outbox directory. */
export const transportSpec = (smtpUrl: string | null, outboxDir: string): TransportSpec =>
  smtpUrl ? { kind: 'smtp', url: smtpUrl, connections: SMTP_POOL_SIZE } : { kind: 'outbox', dir: outboxDir };

/** `threads` mail threads (ADMIT_COMPOSE_THREADS), or everything on the main thread for 0. */
export const mailFor = (spec: TransportSpec, threads: number): Mail =>
  threads >= 1 ? threadedMail(spec, threads) : inlineMail(spec);

/** Runs `record`, then frees an accepted message's slot (`release`), however `record` ends. */
async function recordThenRelease<T>(
  outcome: Outcome,
  record: (outcome: Outcome) => Promise<T>,
  release: () => void,
): Promise<T> {
  if (outcome.error) return record(outcome); // not accepted: its slot is free already
  try {
    return await record(outcome);
  } finally {
    release();
  }
}

function inlineMail(spec: TransportSpec): Mail {
  const work = import('./transport.ts').then((m) => ({ ...m, transport: m.transportFor(spec) }));
  return {
    kind: spec.kind,
    parallelism: spec.kind === 'smtp' ? spec.connections : OUTBOX_PARALLELISM,
    async sendAndRecord(request, record) {
      const { composeAndSend, transport } = await work;
      return recordThenRelease(await composeAndSend(transport, request), record, () =>
        transport.window.release(),
      );
    },
    render: async (request) => (await work).renderOnly(request),
    close: async () => (await work).transport.mailer.close(),
  };
}

/** A request to a mail thread. */
export type MailRequest = { op: 'send' | 'render'; request: ComposeRequest };
/** An outcome as it crosses threads: the error as plain data, and the thread that sent it. */
export type MailReply = {
  stored: Rendered;
  thread: number;
  response?: string;
  error?: { failure: MailFailure; message: string; responseCode: number | null };
};

/** The SMTP connections are divided among the threads, at least one each. */
function threadedMail(spec: TransportSpec, threads: number): Mail {
  const transportOfThread = (i: number): TransportSpec =>
    spec.kind === 'smtp'
      ? {
          ...spec,
          connections: Math.max(
            1,
            Math.floor(spec.connections / threads) + (i < spec.connections % threads ? 1 : 0),
          ),
        }
      : spec;
  const pool = new ThreadPool<MailRequest, MailReply>(
    siblingModule(import.meta.url, 'mail.thread'),
    threads,
    transportOfThread,
  );
  return {
    kind: spec.kind,
    parallelism: spec.kind === 'smtp' ? Math.max(spec.connections, threads) : OUTBOX_PARALLELISM * threads,
    async sendAndRecord(request, record) {
      const r = await pool.run({ op: 'send', request });
      const outcome: Outcome = r.error
        ? { stored: r.stored, error: new MailError(r.error.failure, r.error.message, r.error.responseCode) }
        : { stored: r.stored, response: r.response ?? '' };
      return recordThenRelease(outcome, record, () => pool.tell(r.thread, 'recorded'));
    },
    render: async (request) => (await pool.run({ op: 'render', request })).stored,
    close: () => pool.close(),
  };
}
