import { setPriority } from 'node:os';
import { hashSync, verifySync } from '@node-rs/argon2';
import type { PasswordRequest } from './passwords.ts';
import { serveThreadRequests } from './threads.ts';

/**
 * Worker-thread entry of the password pool (passwords.ts). On Linux a thread's nice value is its
 * own, so this thread alone yields to the event loop and the database when the CPU is short.
 */
if (process.platform === 'linux') {
  try {
    setPriority(19);
  } catch {
    // Not permitted here: hash at the normal priority.
  }
}

serveThreadRequests(async (r: PasswordRequest) => ({
  result: r.op === 'hash' ? hashSync(r.password) : verifySync(r.stored, r.password),
}));
