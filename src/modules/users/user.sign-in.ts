import { createHmac } from 'node:crypto';
import type { Actor, Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../../passwords.ts';
import { recordAudit } from '../events/event.ts';
import type { User } from './user.repository.ts';
import * as repo from './user.repository.ts';
import { createUser } from './user.service.ts';

/**
 * Back-office sign-in (the admin console, SPEC 8): users sign in with an email and a password
 * (argon2id, the same policy as contacts'). While no enabled user has a password of their own,
 * every start makes sure the first administrator can sign in: from ADMIT_BOOTSTRAP_ADMIN_*, or with
 * a one-time password derived from ADMIT_SECRET and the user's id, to be changed at the first
 * sign-in. Being derived, it is the same at every start and in every process, so each start banner
 * can print it and none replaces the one another printed.
 */
const system: Actor = { type: 'system', id: null, ip: null };
export const FIRST_ADMIN_EMAIL = 'admin@localhost';

/** The first administrator's one-time password: 16 characters, from ADMIT_SECRET and its id. */
const oneTimePasswordOf = (deps: Deps, userId: string) =>
  createHmac('sha256', deps.keys.firstAdminPassword).update(userId).digest('base64url').slice(0, 16);

/**
 * Makes (or arms) the first administrator while no enabled user has a password of their own;
 * returns its email and one-time password (null when ADMIT_BOOTSTRAP_ADMIN_PASSWORD gave it), or
 * null when someone can already sign in, or when that administrator is disabled (then only
 * `admit users reset-password` and an enabled user help).
 */
export async function ensureFirstAdmin(
  deps: Deps,
): Promise<{ email: string; oneTimePassword: string | null } | null> {
  if ((await repo.countUsersWithOwnPassword(deps.db)) > 0) return null;
  const given = deps.config.bootstrapAdmin;
  const email = given?.email ?? FIRST_ADMIN_EMAIL;
  const user = await firstAdminUser(deps, email);
  if (user.disabled) return null;
  if (given) {
    await repo.setPassword(
      deps.db,
      user.id,
      await hashPassword(given.password),
      false,
      deps.now().toISOString(),
    );
    return { email, oneTimePassword: null };
  }
  const password = oneTimePasswordOf(deps, user.id);
  const credentials = await repo.findCredentials(deps.db, user.id);
  // Armed already (by an earlier start or another process): leave it, so a sign-in under way holds.
  const armed =
    credentials?.mustChangePassword === true && (await verifyPassword(credentials.passwordHash, password));
  if (!armed)
    await repo.setPassword(deps.db, user.id, await hashPassword(password), true, deps.now().toISOString());
  return { email, oneTimePassword: password };
}

/** The user with this email, made an administrator if there is none (two starts at once make one). */
async function firstAdminUser(deps: Deps, email: string): Promise<User> {
  const found = await repo.findUserByEmail(deps.db, email);
  if (found) return found;
  try {
    return await createUser(deps, system, { name: 'Administrator', email, role: 'admin' });
  } catch (err) {
    const raced = await repo.findUserByEmail(deps.db, email);
    if (raced) return raced;
    throw err;
  }
}

/** The enabled user with this email and password, or null (the time spent does not tell which). */
export async function authenticateUser(
  deps: Deps,
  email: string,
  password: string,
): Promise<{ user: User; mustChangePassword: boolean } | null> {
  const user = await repo.findUserByEmail(deps.db, email.trim());
  const credentials = user ? await repo.findCredentials(deps.db, user.id) : undefined;
  const ok = await verifyPassword(credentials?.passwordHash ?? null, password);
  if (!ok || !user || user.disabled || !credentials) return null;
  return { user, mustChangePassword: credentials.mustChangePassword };
}

/** Changes the user's own password: the current one must be right, the new one pass the policy. */
export async function changeOwnPassword(
  deps: Deps,
  user: User,
  input: { currentPassword: string; newPassword: string },
  ip: string | null,
): Promise<void> {
  const credentials = await repo.findCredentials(deps.db, user.id);
  if (!(await verifyPassword(credentials?.passwordHash ?? null, input.currentPassword))) {
    throw new AppError('VALIDATION_FAILED', 'The current password is not right.', [
      { path: '/currentPassword', message: 'is not right' },
    ]);
  }
  const problem = await passwordProblem(input.newPassword, { email: user.email, username: user.name });
  if (problem) throw new AppError('VALIDATION_FAILED', problem, [{ path: '/newPassword', message: problem }]);
  if (input.newPassword === input.currentPassword) {
    throw new AppError('VALIDATION_FAILED', 'Choose a password different from the current one.', [
      { path: '/newPassword', message: 'is the current password' },
    ]);
  }
  const hash = await hashPassword(input.newPassword);
  await deps.db.transaction().execute(async (trx) => {
    await repo.setPassword(trx, user.id, hash, false, deps.now().toISOString());
    await recordAudit(
      trx,
      deps,
      { type: 'user', id: user.id, ip },
      'user.password_changed',
      { type: 'user', id: user.id },
      {},
    );
  });
}

export const mustChangePassword = async (deps: Deps, userId: string): Promise<boolean> =>
  (await repo.findCredentials(deps.db, userId))?.mustChangePassword ?? false;
