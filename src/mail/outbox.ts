import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Envelope, Mailer } from './mailer.ts';
import type { Slot } from './window.ts';

/** Files written at once. */
export const OUTBOX_PARALLELISM = 16;

/**
 * The embedded default when SMTP_URL is unset: every message, composed exactly as it would be sent,
 * is written as an .eml file under `{DATA_DIR}/outbox`, where any mail client opens it.
 */
export function outboxMailer(dir: string): Mailer {
  let ready: Promise<unknown> | undefined;
  return {
    kind: 'outbox',
    parallelism: OUTBOX_PARALLELISM,
    async send(envelope: Envelope, raw: Uint8Array, slot: Slot) {
      ready ??= mkdir(dir, { recursive: true });
      await ready;
      await slot.take();
      const file = path.join(dir, `${outboxFileName(envelope.messageId)}.eml`);
      await writeFile(file, raw);
      return { response: `250 written to ${file}` };
    },
    async close() {},
  };
}

/** The file name of a message in the outbox: its Message-ID without brackets or path characters. */
export const outboxFileName = (messageId: string): string =>
  messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_');
