import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { type Mailer, nodemailerMessage, type OutgoingMessage } from './mailer.ts';

/**
 * The embedded default when SMTP_URL is unset: every message is built exactly as it would be sent
 * and written as an .eml file under `{DATA_DIR}/outbox`, where any mail client opens it.
 */
export function outboxMailer(dir: string): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let ready: Promise<unknown> | undefined;
  return {
    kind: 'outbox',
    parallelism: 16,
    async send(m: OutgoingMessage) {
      ready ??= mkdir(dir, { recursive: true });
      await ready;
      const info = await transport.sendMail(nodemailerMessage(m));
      const file = path.join(dir, `${outboxFileName(m.messageId)}.eml`);
      await writeFile(file, info.message as Buffer);
      return { response: `250 written to ${file}` };
    },
    async close() {},
  };
}

/** The file name of a message in the outbox: its Message-ID without brackets or path characters. */
export const outboxFileName = (messageId: string): string =>
  messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_');
