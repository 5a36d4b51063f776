import type { Actor, Deps } from '../../context.ts';
import { AppError, notFound } from '../../errors.ts';
import { signOutUserEverywhere } from '../../http/session.ts';
import { hashPassword, passwordProblem } from '../../passwords.ts';
import { recordAudit } from '../events/event.ts';
import { queueUserEmail } from './user.mail.ts';
import * as repo from './user.repository.ts';
import {
  findOpenUserToken,
  issueUserToken,
  setPasswordLink,
  spendUserTokens,
  USER_TOKEN_LIFETIME_MS,
  type UserTokenPurpose,
} from './user.tokens.ts';

/**
 * How back-office users get a password without anyone else knowing it: an administrator invites
 * a user (an email with a link to set a first password, valid a week), a user who forgot asks for
 * a reset link (an hour), and the operator at the server's keyboard asks the CLI for a link.
 * Setting a password through a link spends every open link of the user and signs the user out
 * everywhere.
 */

/** Mails `userId` a link to set a first password (again, when asked twice). 409 for a disabled user. */
export async function inviteUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const user = await repo.findUser(trx, userId);
    if (!user) throw notFound('user', userId);
    if (user.disabled) throw new AppError('CONFLICT', 'This user is disabled; enable it before inviting it.');
    const tokenId = await issueUserToken(trx, deps, { userId, purpose: 'invite', email: user.email });
    await queueUserEmail(trx, deps, user, 'invite', tokenId);
    await recordAudit(trx, deps, actor, 'user.invited', { type: 'user', id: userId }, { email: user.email });
  });
  deps.notifyJobs();
}

/**
 * "Forgot your password?": mails a reset link to an enabled user with this email. Says nothing
 * either way (the caller answers the same), so it does not tell who has an account.
 */
export async function requestPasswordReset(deps: Deps, email: string, ip: string | null): Promise<void> {
  const user = await repo.findUserByEmail(deps.db, email.trim());
  if (!user || user.disabled) return;
  await deps.db.transaction().execute(async (trx) => {
    const tokenId = await issueUserToken(trx, deps, {
      userId: user.id,
      purpose: 'reset-password',
      email: user.email,
    });
    await queueUserEmail(trx, deps, user, 'reset-password', tokenId);
    await recordAudit(
      trx,
      deps,
      { type: 'system', id: null, ip },
      'user.password_reset_requested',
      { type: 'user', id: user.id },
      {},
    );
  });
  deps.notifyJobs();
}

/** What a link is for, for the console's form; null when it is not valid (used, expired, forged). */
export async function describeUserToken(
  deps: Deps,
  token: string,
): Promise<{ purpose: 'invite' | 'reset-password'; email: string; name: string } | null> {
  const open = await findOpenUserToken(deps.db, deps, token);
  const user = open ? await repo.findUser(deps.db, open.userId) : undefined;
  if (!open || !user || user.disabled) return null;
  return { purpose: open.purpose, email: user.email, name: user.name };
}

const linkNotValid = () =>
  new AppError(
    'TOKEN_NOT_VALID',
    'This link has expired or was already used. Ask for a new one with "Forgot your password?".',
  );

/** Sets the password of the link's user: once per link; the policy applies; every session ends. */
export async function setPasswordWithToken(
  deps: Deps,
  token: string,
  password: string,
  ip: string | null,
): Promise<{ email: string }> {
  const open = await findOpenUserToken(deps.db, deps, token);
  const user = open ? await repo.findUser(deps.db, open.userId) : undefined;
  if (!open || !user || user.disabled) throw linkNotValid();
  const problem = await passwordProblem(password, { email: user.email, username: user.name });
  if (problem) throw new AppError('VALIDATION_FAILED', problem, [{ path: '/password', message: problem }]);
  const hash = await hashPassword(password);
  const at = deps.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    if (!(await spendUserTokens(trx, user.id, open.id, at))) throw linkNotValid();
    await repo.setPassword(trx, user.id, hash, false, at);
    await signOutUserEverywhere(trx, user.id);
    await recordAudit(
      trx,
      deps,
      { type: 'user', id: user.id, ip },
      'user.password_set',
      { type: 'user', id: user.id },
      { through: open.purpose },
    );
  });
  return { email: user.email };
}

/**
 * A link for the operator at the keyboard (`admit users create` and `admit users reset-password`),
 * printed, not mailed: an invitation valid a week, or a reset valid an hour; audited as the system.
 */
export async function linkForOperator(
  deps: Deps,
  email: string,
  purpose: UserTokenPurpose,
): Promise<{ link: string; validForHours: number }> {
  const user = await repo.findUserByEmail(deps.db, email.trim());
  if (!user) throw new AppError('NOT_FOUND', `No user has the email ${email}.`);
  if (user.disabled) throw new AppError('CONFLICT', `The user ${email} is disabled.`);
  const tokenId = await deps.db.transaction().execute(async (trx) => {
    const id = await issueUserToken(trx, deps, { userId: user.id, purpose, email: null });
    await recordAudit(
      trx,
      deps,
      { type: 'system', id: null, ip: null },
      purpose === 'invite' ? 'user.invited' : 'user.password_reset_requested',
      { type: 'user', id: user.id },
      { by: 'cli' },
    );
    return id;
  });
  return { link: setPasswordLink(deps, tokenId), validForHours: USER_TOKEN_LIFETIME_MS[purpose] / 3_600_000 };
}
