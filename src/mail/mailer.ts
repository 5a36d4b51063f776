import type { Slot } from './window.ts';

/**
 * The Mailer port: what sending needs from a transport. Two transports implement it: SMTP
 * (`smtp.ts`, pooled nodemailer) and the outbox (`outbox.ts`, .eml files, the default).
 */
/** SMTP connections per process (shared out among its mail threads). */
export const SMTP_POOL_SIZE = 5;

/** Who a composed message goes from and to, and its Message-ID (also inside the raw message). */
export interface Envelope {
  messageId: string;
  from: string;
  to: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /**
   * Sends a composed message (compose.ts), taking its `slot` in the sending window just before the
   * message can be accepted (window.ts). Resolves with the server's reply when it was accepted;
   * throws MailError otherwise.
   */
  send(envelope: Envelope, raw: Uint8Array, slot: Slot): Promise<{ response: string }>;
  /** How many messages may be in flight at once (the SMTP pool size). */
  readonly parallelism: number;
  close(): Promise<void>;
}

/**
 * Why a message was not accepted:
 * - `temporary`: a 4xx reply; retry this message later;
 * - `permanent`: a 5xx reply; the message failed, with the server's reply as the reason;
 * - `connection`: no conversation (refused, reset, timeout), 421 (the server closes the channel for
 *   every message), or a refusal at the greeting or EHLO (`responseCode` set for the last two): the
 *   server takes no message now; retry the whole batch when it does;
 * - `auth`: the server refused our credentials; pause sending until someone fixes it.
 */
export type MailFailure = 'temporary' | 'permanent' | 'connection' | 'auth';

export class MailError extends Error {
  constructor(
    readonly failure: MailFailure,
    message: string,
    readonly responseCode: number | null = null,
  ) {
    super(message);
    this.name = 'MailError';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETLS',
  'EPROTOCOL',
]);

/** Classifies a nodemailer error by SMTP reply code first, then by error code. */
export function classifyMailError(err: unknown): MailError {
  if (err instanceof MailError) return err;
  const e = err as {
    responseCode?: number;
    code?: string;
    command?: string;
    response?: string;
    message?: string;
  };
  const reply = (e.response || e.message || String(err)).replace(/[\r\n]+/g, ' ').slice(0, 1000);
  if (e.code === 'EAUTH' || e.responseCode === 535 || e.responseCode === 534 || e.responseCode === 530) {
    return new MailError('auth', reply);
  }
  // Refused at the greeting or at EHLO: the server turns every message away, not this one.
  if (e.command === 'CONN' || e.command === 'EHLO' || e.command === 'HELO')
    return new MailError('connection', reply, e.responseCode ?? null);
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return new MailError('permanent', reply);
    if (e.responseCode === 421) return new MailError('connection', reply, 421);
    if (e.responseCode >= 400) return new MailError('temporary', reply);
  }
  // Without a reply: this message's fault (too large for the server, a refused envelope) ...
  if (e.code === 'EMESSAGE' || e.code === 'EENVELOPE') return new MailError('permanent', reply);
  // ... or no conversation at all.
  if (e.code && CONNECTION_CODES.has(e.code)) return new MailError('connection', reply);
  return new MailError('connection', reply);
}

/** One line, no control characters: for subjects and display names that go into headers. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
export const headerSafe = (s: string): string => s.replace(/[\u0000-\u001F\u007F]+/g, ' ').trim();

/** The address alone, for the SMTP envelope: `a@b.test` from `"Name" <a@b.test>`. */
export const bareAddress = (from: string): string => /<([^<>\s]+)>\s*$/.exec(from)?.[1] ?? from.trim();

/** Our Message-ID for an Email record: `<id@domain-of-MAIL_FROM>`. */
export function messageIdFor(emailId: string, mailFrom: string, publicUrl: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(mailFrom)?.[1] ?? new URL(publicUrl).hostname;
  return `<${emailId}@${domain}>`;
}
