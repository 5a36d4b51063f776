import type { Actor, Deps } from '../../context.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
import { recordAudit } from '../events/event.ts';
import type { ApiKey, User } from './user.repository.ts';
import * as repo from './user.repository.ts';
import { createApiKey } from './user.service.ts';

/**
 * Managing back-office users and API keys through the API (SPEC 9), for administrators only
 * (the route scope checks the role). There is always at least one enabled administrator: the last
 * one cannot be disabled or made an operator. A key's secret is shown once, when it is created;
 * deleting a key revokes it at once.
 */
export async function listUsers(
  deps: Deps,
  q: { limit: number; cursor?: string; search?: string },
): Promise<Page<User>> {
  return toPage(
    await repo.findUsers(deps.db, { search: q.search, before: decodeCursor(q.cursor), limit: q.limit + 1 }),
    q.limit,
  );
}

export async function updateUser(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: { name?: string; role?: User['role']; disabled?: boolean },
): Promise<User> {
  return deps.db.transaction().execute(async (trx) => {
    const current = await repo.findUser(trx, id);
    if (!current) throw notFound('user', id);
    const next: User = {
      ...current,
      name: patch.name ?? current.name,
      role: patch.role ?? current.role,
      disabled: patch.disabled ?? current.disabled,
      updatedAt: deps.now().toISOString(),
    };
    const wasAdmin = current.role === 'admin' && !current.disabled;
    const isAdmin = next.role === 'admin' && !next.disabled;
    if (wasAdmin && !isAdmin && (await repo.countEnabledAdmins(trx)) <= 1) {
      throw new AppError(
        'CONFLICT',
        'This is the last enabled administrator; make another user an administrator first.',
      );
    }
    await repo.updateUser(trx, next);
    await recordAudit(trx, deps, actor, 'user.updated', { type: 'user', id }, { changes: patch });
    return next;
  });
}

export async function listApiKeys(
  deps: Deps,
  q: { userId?: string; limit: number; cursor?: string },
): Promise<Page<ApiKey>> {
  return toPage(
    await repo.findApiKeys(deps.db, { userId: q.userId, before: decodeCursor(q.cursor), limit: q.limit + 1 }),
    q.limit,
  );
}

/** A new key for `userId` (default: the caller); the secret is in this answer only. */
export async function issueApiKey(
  deps: Deps,
  actor: Actor,
  input: { name: string; userId?: string },
): Promise<ApiKey & { secret: string }> {
  const userId = input.userId ?? actor.id;
  if (!userId) throw invalid('/userId', 'Name the user the key is for.');
  const user = await repo.findUser(deps.db, userId);
  if (!user) throw invalid('/userId', `No user with id ${userId}.`);
  if (user.disabled) throw invalid('/userId', `The user ${userId} is disabled.`);
  const { apiKey, secret } = await createApiKey(deps, actor, { userId, name: input.name });
  return { ...apiKey, secret };
}

export async function revokeApiKey(deps: Deps, actor: Actor, id: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const key = await repo.findApiKey(trx, id);
    if (!key) throw notFound('API key', id);
    await repo.deleteApiKey(trx, id);
    await recordAudit(
      trx,
      deps,
      actor,
      'api_key.deleted',
      { type: 'api_key', id },
      {
        userId: key.userId,
        name: key.name,
        prefix: key.prefix,
      },
    );
  });
}
