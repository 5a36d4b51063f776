import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { bareAddress, classifyMailError, type Envelope, type Mailer, SMTP_POOL_SIZE } from './mailer.ts';
import type { Place } from './window.ts';

/**
 * A composed message as nodemailer's SMTP pool reads a message: its envelope, its Message-ID and a
 * stream of its bytes. `sendMail` would wrap the raw bytes in a MailComposer and a MimeNode first
 * (a `crypto.randomBytes` call, a stream pipeline and an AbortSignal per message: ~12% of a mail
 * thread's time); the pool itself needs only these. A stream, not the buffer, so that the pool
 * still puts a message back in its queue when a reused connection turns out to be closed before
 * reading it (it checks `readableDidRead`).
 */
interface PoolMail {
  data: Record<string, never>;
  message: {
    getEnvelope(): { from: string; to: string[] };
    messageId(): string;
    getHeader(name: string): string | undefined;
    createReadStream(): Readable;
  };
}
type PoolTransport = {
  send(mail: PoolMail, callback: (err: Error | null, info?: { response?: string }) => void): void;
};

function poolMail(envelope: Envelope, raw: Buffer, place: Place): PoolMail {
  const messageId = `<${envelope.messageId}>`;
  const sender = { from: bareAddress(envelope.from), to: [envelope.to] };
  return {
    data: {},
    message: {
      getEnvelope: () => sender,
      messageId: () => messageId,
      getHeader: (name) => (name.toLowerCase() === 'message-id' ? messageId : undefined),
      createReadStream: () => Readable.from(bytesThenPlace(raw, place), { objectMode: false }),
    },
  };
}

/**
 * The message's bytes, then its place in the sending window: the stream ends, and the connection
 * sends the final dot after which the server may accept, only once the place is taken. Until then
 * the server holds an unfinished message, which it drops if the connection dies.
 */
async function* bytesThenPlace(raw: Buffer, place: Place): AsyncGenerator<Buffer> {
  yield raw;
  await place.take();
}

/** SMTP through a pool of connections (SMTP_URL). */
export function smtpMailer(url: string, poolSize = SMTP_POOL_SIZE): Mailer {
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: poolSize,
    maxMessages: Number.POSITIVE_INFINITY,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const pool = (transport as unknown as { transporter: PoolTransport }).transporter;
  return {
    kind: 'smtp',
    parallelism: poolSize,
    send(envelope: Envelope, raw: Uint8Array, place: Place) {
      const mail = poolMail(envelope, Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), place);
      return new Promise((resolve, reject) =>
        pool.send(mail, (err, info) =>
          err ? reject(classifyMailError(err)) : resolve({ response: String(info?.response ?? '') }),
        ),
      );
    },
    async close() {
      transport.close();
    },
  };
}
