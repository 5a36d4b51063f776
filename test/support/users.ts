import { hashPassword } from '../../src/passwords.ts';
import type { Harness } from './harness.ts';

/** Gives a back-office user a password (as the first start or a password change would). */
export async function setPasswordForTest(h: Harness, userId: string, password: string): Promise<void> {
  await h.deps.db
    .updateTable('users')
    .set({ password_hash: await hashPassword(password) })
    .where('id', '=', userId)
    .execute();
}
