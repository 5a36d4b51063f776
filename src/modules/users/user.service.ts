import { randomBytes } from 'node:crypto';
import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { uniqueOr } from '../../db/dialect.ts';
import { AppError, invalid } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { hmacHex } from '../../keys.ts';
import { recordAudit } from '../events/event.ts';
import type { ApiKey, User } from './user.repository.ts';
import * as repo from './user.repository.ts';

export type { ApiKey, User };

/** How long a key's lastUsedAt may lag: one write a minute per key, not one per request. */
const TOUCH_INTERVAL_MS = 60_000;
const KEY_PREFIX_LENGTH = 12;

/** SPEC 9 POST /users (and `admit users create`): a back-office user. */
export async function createUser(
  deps: Deps,
  actor: Actor,
  input: { name: string; email: string; role: User['role'] },
): Promise<User> {
  const now = deps.now().toISOString();
  const user: User = { id: newId(), ...input, disabled: false, createdAt: now, updatedAt: now };
  await uniqueOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        await repo.insertUser(trx, user);
        await recordAudit(
          trx,
          deps,
          actor,
          'user.created',
          { type: 'user', id: user.id },
          { email: user.email, role: user.role },
        );
      }),
    () => new AppError('EMAIL_TAKEN', `A user with the email ${input.email} already exists.`),
  );
  return user;
}

export const findUserByEmail = (deps: Deps, email: string) => repo.findUserByEmail(deps.db, email);

const hashKey = (deps: Deps, secret: string) => hmacHex(deps.keys.apiKey, secret);

/**
 * Creates an API key for a user. The secret is returned once, here; only its keyed hash is stored.
 * `secret` may be supplied (the bootstrap key); otherwise 192 random bits are generated.
 */
export async function createApiKey(
  deps: Deps,
  actor: Actor,
  input: { userId: string; name: string; secret?: string },
): Promise<{ apiKey: ApiKey; secret: string }> {
  const secret = input.secret ?? `admit_${randomBytes(24).toString('base64url')}`;
  const apiKey: ApiKey = {
    id: newId(),
    userId: input.userId,
    name: input.name,
    prefix: secret.slice(0, KEY_PREFIX_LENGTH),
    lastUsedAt: null,
    createdAt: deps.now().toISOString(),
  };
  await deps.db.transaction().execute(async (trx) => {
    await repo.insertApiKey(trx, apiKey, hashKey(deps, secret));
    await recordAudit(
      trx,
      deps,
      actor,
      'api_key.created',
      { type: 'api_key', id: apiKey.id },
      { userId: input.userId, name: input.name, prefix: apiKey.prefix },
    );
  });
  return { apiKey, secret };
}

/** The enabled user a presented key belongs to, or undefined. Records use at most once a minute. */
export async function authenticateApiKey(deps: Deps, secret: string): Promise<User | undefined> {
  const found = await repo.findApiKeyBySecretHash(deps.db, hashKey(deps, secret));
  if (!found || found.user.disabled) return undefined;
  const now = deps.now();
  const last = found.key.lastUsedAt ? Date.parse(found.key.lastUsedAt) : 0;
  if (now.getTime() - last > TOUCH_INTERVAL_MS)
    await repo.touchApiKey(deps.db, found.key.id, now.toISOString());
  return found.user;
}

/**
 * ADMIT_BOOTSTRAP_API_KEY: makes sure a user and this key exist (for automation and tests).
 * Idempotent: a second start with the same key changes nothing.
 */
export async function ensureBootstrapApiKey(deps: Deps, secret: string): Promise<void> {
  if (await repo.findApiKeyBySecretHash(deps.db, hashKey(deps, secret))) return;
  const system: Actor = { type: 'system', id: null, ip: null };
  const email = 'bootstrap@admit.invalid';
  const user =
    (await repo.findUserByEmail(deps.db, email)) ??
    (await createUser(deps, system, { name: 'Bootstrap', email, role: 'admin' }));
  await createApiKey(deps, system, { userId: user.id, name: 'bootstrap', secret });
}

/** The rule "the owner is an enabled user": VALIDATION_FAILED at `path` otherwise. */
export async function requireEnabledUser(conn: Conn, id: string, path: string): Promise<User> {
  const user = await repo.findUser(conn, id);
  if (!user) throw invalid(path, `No user with id ${id}.`);
  if (user.disabled) throw invalid(path, `The user ${id} is disabled.`);
  return user;
}

export const findFirstAdmin = (deps: Deps) => repo.findFirstAdmin(deps.db);
