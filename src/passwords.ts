import { availableParallelism } from 'node:os';
import { siblingModule, ThreadPool } from './threads.ts';

/**
 * Contact passwords (SPEC 5, ASVS 5.0 V6): 8 to 256 characters, not one of the ~18,000 common
 * passwords of that length (zxcvbn's list), stored with argon2id (library defaults: 19 MiB, t=2).
 *
 * Hashing and verifying (about 30 ms of CPU each) run in worker threads of their own, one per core
 * (at most 4), never on the event loop and never inside a transaction. On Linux those threads run at
 * the lowest priority (nice 19): when registrations and sign-ins crowd the CPU, the event loop and the
 * database still answer every other request promptly, and hashing takes the CPU that is left
 * (decision 0010).
 */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

/**
 * The common passwords, loaded at the first check: zxcvbn's dictionaries cost about 14 MB, which a
 * process that never checks a password (a worker, a bulk send) does not carry.
 */
let common: Promise<Set<string>> | undefined;
const commonPasswords = (): Promise<Set<string>> => {
  common ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) =>
      new Set((dictionary['passwords-common'] as string[]).filter((p) => p.length >= MIN_PASSWORD)),
  );
  return common;
};

/** Why the password cannot be used, in words for the person typing it; null when it can. */
export async function passwordProblem(password: string): Promise<string | null> {
  const length = [...password].length;
  if (length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters.`;
  if (length > MAX_PASSWORD) return `Use at most ${MAX_PASSWORD} characters.`;
  if ((await commonPasswords()).has(password.toLowerCase()))
    return 'This password is too common and easy to guess. Choose another one.';
  return null;
}

export type PasswordRequest =
  | { op: 'hash'; password: string }
  | { op: 'verify'; stored: string; password: string };

let pool: ThreadPool<PasswordRequest, string | boolean> | undefined;
const run = (request: PasswordRequest) => {
  pool ??= new ThreadPool(
    siblingModule(import.meta.url, 'passwords.worker'),
    Math.min(4, availableParallelism()),
  );
  return pool.run(request);
};
const verify = async (stored: string, password: string) =>
  (await run({ op: 'verify', stored, password })) as boolean;

export const hashPassword = async (password: string): Promise<string> =>
  (await run({ op: 'hash', password })) as string;

/** A hash of a random password, verified against when there is no contact, so timing does not tell. */
let decoy: Promise<string> | undefined;

/** True when `password` matches `stored`; with no stored hash, spends the same time and says false. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD * 4) return false;
  if (!stored) {
    decoy ??= hashPassword('decoy-password-for-timing');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
