import { availableParallelism } from 'node:os';
import { siblingModule, ThreadPool } from './threads.ts';

/**
 * Contact passwords (SPEC 5, ASVS 5.0 V6): 8 to 256 characters, not one of the ~18,000 common
 * passwords of that length (zxcvbn's list), stored with argon2id (library defaults: 19 MiB, t=2).
 *
 * Hashing and verifying (tens of milliseconds of CPU each) run in worker threads of their own, one per core
 * (at most 4), never on the event loop and never inside a transaction. On Linux those threads run at
 * the lowest priority (nice 19): when registrations and sign-ins crowd the CPU, the event loop and the
 * database still answer every other request promptly, and hashing takes the CPU that is left
 * (decision 0010).
 */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

/**
 * The common passwords, loaded at the first check: zxcvbn's dictionaries cost megabytes, which a
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

/**
 * Passwords are compared in Unicode normal form NFKC (ASVS 5.0 V6.2): a password typed with a
 * composed "é" on one device and a decomposed one on another is the same password.
 */
export const normalisePassword = (password: string): string => password.normalize('NFKC');

/** Words that are about the person or the site, which a password must not be made of. */
export interface PasswordContext {
  username?: string | null;
  email?: string | null;
  websiteName?: string | null;
}

/** The letters and digits of `s`, lower-cased: "Ada.Lovelace-1" and "adalovelace1" are alike. */
const core = (s: string) =>
  normalisePassword(s)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

/**
 * True when the password is nothing but the context's words (the username, the email, its local part
 * and the parts of that, the website's name and its words), repeated or joined, with digits and
 * punctuation around them: "lovelace2024!", "AdaAda", "Contoso Portal 1".
 */
function madeOfContext(password: string, context: PasswordContext): boolean {
  const local = context.email?.split('@')[0] ?? '';
  const words = new Set(
    [
      context.username,
      context.email,
      local,
      ...local.split(/[._+-]+/),
      context.websiteName,
      ...(context.websiteName ?? '').split(/\s+/),
    ]
      .map((w) => core(w ?? '').replace(/\p{N}+/gu, ''))
      .filter((w) => w.length >= 3),
  );
  const letters = core(password).replace(/\p{N}+/gu, '');
  if (letters.length === 0 || words.size === 0) return false;
  // Can `letters` be cut into words of the context? (a word may repeat)
  const reachable = new Array<boolean>(letters.length + 1).fill(false);
  reachable[0] = true;
  for (let i = 0; i < letters.length; i++) {
    if (!reachable[i]) continue;
    for (const w of words) if (letters.startsWith(w, i)) reachable[i + w.length] = true;
  }
  return reachable[letters.length] === true;
}

/** Why the password cannot be used, in words for the person typing it; null when it can. */
export async function passwordProblem(
  password: string,
  context: PasswordContext = {},
): Promise<string | null> {
  const normal = normalisePassword(password);
  const length = [...normal].length;
  if (length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters.`;
  if (length > MAX_PASSWORD) return `Use at most ${MAX_PASSWORD} characters.`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(normal))
    return 'Use letters, digits, spaces and symbols only: no tabs, line breaks or other control characters.';
  if ((await commonPasswords()).has(normal.toLowerCase()))
    return 'This password is too common and easy to guess. Choose another one.';
  if (madeOfContext(normal, context))
    return "Don't make your password from your username, your email address or the site's name. Choose another one.";
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
  (await run({ op: 'hash', password: normalisePassword(password) })) as string;

/** A hash of a random password, verified against when there is no contact, so timing does not tell. */
let decoy: Promise<string> | undefined;

/** True when `password` matches `stored`; with no stored hash, spends the same time and says false. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD * 4) return false;
  if (!stored) {
    // As many verifications as a real account would cost (two when normalising changes the password).
    decoy ??= hashPassword('decoy-password-for-timing');
    await verify(await decoy, normalisePassword(password)).catch(() => false);
    if (normalisePassword(password) !== password) await verify(await decoy, password).catch(() => false);
    return false;
  }
  try {
    const normal = normalisePassword(password);
    if (await verify(stored, normal)) return true;
    // A hash stored before passwords were normalised holds the password as it was typed.
    return normal !== password && (await verify(stored, password));
  } catch {
    return false;
  }
}
