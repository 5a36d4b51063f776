import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * Contact passwords (SPEC 5, ASVS 5.0 V6): 8 to 256 characters, not one of the ~18,000 common
 * passwords of that length (zxcvbn's list), stored with argon2id (library defaults: 19 MiB, t=2).
 * Hashing runs on libuv's thread pool, never on the event loop and never inside a transaction.
 */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

let common: Set<string> | undefined;
const commonPasswords = (): Set<string> => {
  common ??= new Set((dictionary['passwords-common'] as string[]).filter((p) => p.length >= MIN_PASSWORD));
  return common;
};

/** Why the password cannot be used, in words for the person typing it; null when it can. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters.`;
  if (length > MAX_PASSWORD) return `Use at most ${MAX_PASSWORD} characters.`;
  if (commonPasswords().has(password.toLowerCase()))
    return 'This password is too common and easy to guess. Choose another one.';
  return null;
}

export const hashPassword = (password: string): Promise<string> => hash(password);

/** A hash of a random password, verified against when there is no contact, so timing does not tell. */
let decoy: Promise<string> | undefined;

/** True when `password` matches `stored`; with no stored hash, spends the same time and says false. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD * 4) return false;
  if (!stored) {
    decoy ??= hash('decoy-password-for-timing');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
