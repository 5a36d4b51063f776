import { randomBytes } from 'node:crypto';

/** Bytes drawn from the system's CSPRNG this many at a time (one call instead of one per token). */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * A random token of `bytes` bytes, base64url: session ids and the like. Drawn from a pool filled by
 * crypto.randomBytes, one system call per POOL_BYTES instead of one per token (the landing creates a
 * session per visitor). Used bytes are zeroed.
 */
export function randomToken(bytes: number): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('base64url');
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + bytes);
  pool.fill(0, offset, offset + bytes);
  offset += bytes;
  return token;
}
