import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets Admit must read back (an identity provider's client secret), sealed with AES-256-GCM under
 * a purpose key (keys.ts). A sealed value is `v1.<iv>.<ciphertext>.<tag>` in base64url; `context`
 * (the record's id) is bound as associated data, so a sealed value copied onto another record does
 * not open there.
 */
const VERSION = 'v1';

export function seal(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, body, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** The plaintext of a sealed value; null when it does not open (another key, record or a change). */
export function open(key: Buffer, sealed: string, context: string): string | null {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== VERSION || iv === undefined || body === undefined || tag === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return null;
  }
}
