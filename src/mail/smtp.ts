import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { bareAddress, classifyMailError, type Envelope, type Mailer, SMTP_POOL_SIZE } from './mailer.ts';
import type { Slot } from './window.ts';

/**
 * A composed message as nodemailer's SMTP pool reads a message: its envelope, its Message-ID and a
 * stream of its bytes, handed to the pool directly instead of through `sendMail`, which would wrap
 * the bytes in a MailComposer again (bench/RESULTS.md, sending-performance record). A stream, not
 * the buffer, so that the pool still puts a message back in its queue when a reused connection
 * turns out to be closed before reading it (it checks `readableDidRead`).
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

function poolMail(envelope: Envelope, raw: Buffer, slot: Slot): PoolMail {
  const messageId = `<${envelope.messageId}>`;
  const sender = { from: bareAddress(envelope.from), to: [envelope.to] };
  return {
    data: {},
    message: {
      getEnvelope: () => sender,
      messageId: () => messageId,
      getHeader: (name) => (name.toLowerCase() === 'message-id' ? messageId : undefined),
      createReadStream: () => Readable.from(bytesThenSlot(raw, slot), { objectMode: false }),
    },
  };
}

/**
 * The message's bytes, then its slot in the sending window: the stream ends, and the connection
 * sends the final dot after which the server may accept, only once the slot is taken. Until then
 * the server holds an unfinished message, which it drops if the connection dies.
 */
async function* bytesThenSlot(raw: Buffer, slot: Slot): AsyncGenerator<Buffer> {
  yield raw;
  await slot.take();
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
    send(envelope: Envelope, raw: Uint8Array, slot: Slot) {
      const mail = poolMail(envelope, Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), slot);
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
