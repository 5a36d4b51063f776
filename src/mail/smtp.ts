import nodemailer from 'nodemailer';
import { bareAddress, classifyMailError, type Envelope, type Mailer, SMTP_POOL_SIZE } from './mailer.ts';

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
  return {
    kind: 'smtp',
    parallelism: poolSize,
    async send(envelope: Envelope, raw: Uint8Array) {
      try {
        const info = await transport.sendMail({
          envelope: { from: bareAddress(envelope.from), to: [envelope.to] },
          raw: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
          // Ours is in the raw message already; without it nodemailer makes one up for its own
          // bookkeeping (five randomBytes calls per message).
          messageId: envelope.messageId,
        });
        return { response: String(info.response ?? '') };
      } catch (err) {
        throw classifyMailError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}
