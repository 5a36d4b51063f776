import { createHmac } from 'node:crypto';
import { hmacHex, type Keys } from '../../keys.ts';

/**
 * Invitation codes (SPEC 3), pure functions.
 *
 * A code is 28 Crockford base32 characters (140 bits) shown in groups of four, e.g.
 * `7K4Q-M2ZD-…`. It is derived, not stored: HMAC-SHA-256 keyed with a 256-bit key from the server
 * secret over (invitation id, code version). The database keeps only HMAC(lookup key, normalised
 * code), so neither a dump nor a read replica can redeem anything; an administrator can still reveal
 * the code, and bumping the version (regenerate) retires every earlier code at once.
 */

export const CODE_LENGTH = 28;
const GROUP = 4;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Longest input worth normalising; anything longer is not a code. */
const MAX_INPUT = 64;

function toBase32(bytes: Buffer, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += ALPHABET[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
    if (out.length === chars) break;
  }
  return out;
}

const group = (compact: string): string => compact.match(new RegExp(`.{1,${GROUP}}`, 'g'))?.join('-') ?? '';

/** The code of an invitation at a code version, grouped for display. */
export function deriveCode(keys: Keys, invitationId: string, codeVersion: number): string {
  const mac = createHmac('sha256', keys.invitationCode).update(`${invitationId}:${codeVersion}`).digest();
  return group(toBase32(mac, CODE_LENGTH));
}

/**
 * Normalises typed input: case-insensitive, spaces and hyphens ignored, and Crockford's
 * look-alikes read as digits (I, L → 1; O → 0). Returns null when the input cannot be a code, so
 * a malformed or overlong code costs no database lookup.
 */
export function normaliseCode(input: string): string | null {
  if (typeof input !== 'string' || input.length > MAX_INPUT) return null;
  const compact = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (compact.length !== CODE_LENGTH) return null;
  for (const ch of compact) if (!ALPHABET.includes(ch)) return null;
  return compact;
}

/** The stored lookup hash of a code (any spelling of it). Null when the input cannot be a code. */
export function codeHash(keys: Keys, input: string): string | null {
  const normal = normaliseCode(input);
  return normal === null ? null : hmacHex(keys.invitationCodeLookup, normal);
}
