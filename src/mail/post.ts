import { siblingModule, ThreadPool } from '../threads.ts';
import type { ComposeRequest } from './compose.ts';
import type { Rendered } from './liquid.ts';
import { MailError, type MailFailure, SMTP_POOL_SIZE } from './mailer.ts';
import { OUTBOX_PARALLELISM } from './outbox.ts';

/**
 * The post: where a message is composed (rendered and built, compose.ts) and handed to the
 * transport. Composing and the transport's work (nodemailer's SMTP pool, the sockets) are most of
 * the CPU a send costs, so on a machine with more cores both run on worker threads (post.worker.ts),
 * each with its share of the SMTP connections, and the main thread keeps the database. The raw
 * message never crosses threads; what comes back is the stored copy and the outcome.
 */
export interface Post {
  readonly kind: 'smtp' | 'outbox';
  /** How many messages may be in flight at once (the SMTP connections, in all threads). */
  readonly parallelism: number;
  /**
   * Composes the message, sends it, and hands the outcome to `record` (a template error rejects, a
   * transport failure is `error`). An accepted message keeps its place in the sending window until
   * `record` has finished: at most `parallelism` messages are accepted and not yet recorded, which
   * bounds what a crash sends twice (window.ts).
   */
  send<T>(request: ComposeRequest, record: (posted: Posted) => Promise<T>): Promise<T>;
  /** Renders only: the stored copy (code masked), as a send would store it. */
  render(request: ComposeRequest): Promise<Rendered>;
  close(): Promise<void>;
}

export type Posted =
  | { stored: Rendered; response: string; error?: undefined }
  | { stored: Rendered; error: MailError };

/** The transport, as data, so that each thread can build its own. */
export type TransportSpec =
  | { kind: 'smtp'; url: string; connections: number }
  | { kind: 'outbox'; dir: string };

/** SMTP when SMTP_URL is set, else the outbox directory. */
export const transportSpec = (smtpUrl: string | null, outboxDir: string): TransportSpec =>
  smtpUrl ? { kind: 'smtp', url: smtpUrl, connections: SMTP_POOL_SIZE } : { kind: 'outbox', dir: outboxDir };

/**
 * Runs `record` on the outcome; an accepted message's place in the window is freed (`free`) once
 * `record` has finished, however it ends. A message not accepted gave its place back already.
 */
async function recordInWindow<T>(
  posted: Posted,
  record: (posted: Posted) => Promise<T>,
  free: () => void,
): Promise<T> {
  if (posted.error) return record(posted);
  try {
    return await record(posted);
  } finally {
    free();
  }
}

/** Everything on the main thread (ADMIT_COMPOSE_THREADS=0). */
export function inlinePost(spec: TransportSpec): Post {
  const work = import('./post.send.ts').then((m) => ({ ...m, sender: m.senderFor(spec) }));
  return {
    kind: spec.kind,
    parallelism: spec.kind === 'smtp' ? spec.connections : OUTBOX_PARALLELISM,
    async send(request, record) {
      const w = await work;
      return recordInWindow(await w.composeAndSend(w.sender, request), record, () =>
        w.sender.window.release(),
      );
    },
    render: async (request) => (await work).renderOnly(request),
    close: async () => (await work).sender.mailer.close(),
  };
}

export type PostRequest = { op: 'send' | 'render'; request: ComposeRequest };
/** A Posted as it crosses threads: the error as plain data, and the thread that sent it. */
export type PostReply = {
  stored: Rendered;
  thread: number;
  response?: string;
  error?: { failure: MailFailure; message: string; responseCode: number | null };
};
/** To the thread that sent accepted messages: this many are recorded, their places are free. */
export type PostNote = { recorded: number };

/** `threads` worker threads; the SMTP connections are shared out among them (at least one each). */
export function threadPost(spec: TransportSpec, threads: number): Post {
  const share = (i: number): TransportSpec =>
    spec.kind === 'smtp'
      ? {
          ...spec,
          connections: Math.max(
            1,
            Math.floor(spec.connections / threads) + (i < spec.connections % threads ? 1 : 0),
          ),
        }
      : spec;
  const pool = new ThreadPool<PostRequest, PostReply>(
    siblingModule(import.meta.url, 'post.worker'),
    threads,
    share,
  );
  // The template version each thread has compiled (by threadId: a replaced thread has a new one).
  // A request carries the template's parts only to a thread that has another: ~3 KB less to copy
  // between threads for each message of a bulk send.
  const compiled = new Map<number, string>();
  const lean =
    (request: ComposeRequest) =>
    (thread: number): PostRequest => {
      if (compiled.get(thread) === request.templateKey)
        return { op: 'send', request: { ...request, template: undefined } };
      compiled.set(thread, request.templateKey);
      return { op: 'send', request };
    };
  // The places freed by one group of records (sent.recorder.ts resolves them together) go to each
  // thread in one note, not one message per email.
  const recorded = new Map<number, number>();
  const tellRecorded = () => {
    for (const [thread, n] of recorded) pool.tell(thread, { recorded: n } satisfies PostNote);
    recorded.clear();
  };
  return {
    kind: spec.kind,
    parallelism: spec.kind === 'smtp' ? Math.max(spec.connections, threads) : OUTBOX_PARALLELISM * threads,
    async send(request, record) {
      const r = await pool.run(lean(request)).catch((err: unknown) => {
        compiled.clear(); // a template that failed to compile is not in the thread: send it again
        throw err;
      });
      const posted: Posted = r.error
        ? { stored: r.stored, error: new MailError(r.error.failure, r.error.message, r.error.responseCode) }
        : { stored: r.stored, response: r.response ?? '' };
      return recordInWindow(posted, record, () => {
        // After the microtasks now queued: the rest of the group's records finish in them.
        if (recorded.size === 0) process.nextTick(tellRecorded);
        recorded.set(r.thread, (recorded.get(r.thread) ?? 0) + 1);
      });
    },
    render: async (request) => (await pool.run({ op: 'render', request })).stored,
    close: () => pool.close(),
  };
}

/** `threads` worker threads (ADMIT_COMPOSE_THREADS; default one less than the cores, at most 4), or inline. */
export const postFor = (spec: TransportSpec, threads: number): Post =>
  threads >= 1 ? threadPost(spec, threads) : inlinePost(spec);
