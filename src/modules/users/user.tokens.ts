import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { instant } from '../../db/values.ts';
import { newId } from '../../ids.ts';
import { idOfSignedToken, signedToken } from '../../keys.ts';

/**
 * One-time links of back-office users: `invite` (set a first password, valid a week) and
 * `reset-password` (an hour). The link carries `{id}.{HMAC(user-token key, id)}`; the table holds
 * only the id, so reading it gives no way in. A link works once; setting a password spends every
 * open link of that user.
 */
export type UserTokenPurpose = 'invite' | 'reset-password';

export const USER_TOKEN_LIFETIME_MS: Record<UserTokenPurpose, number> = {
  invite: 7 * 86_400_000,
  'reset-password': 3_600_000,
};

export const userTokenFor = (deps: Pick<Deps, 'keys'>, id: string): string =>
  signedToken(deps.keys.userToken, id);

/** Where a link opens the console: the token in the fragment, which browsers never send. */
export const setPasswordLink = (deps: Pick<Deps, 'keys' | 'config'>, id: string): string =>
  `${deps.config.publicUrl}/admin#/set-password/${userTokenFor(deps, id)}`;

export async function issueUserToken(
  trx: Conn,
  deps: Deps,
  t: { userId: string; purpose: UserTokenPurpose; email: string | null },
): Promise<string> {
  const now = deps.now();
  const id = newId();
  await trx
    .insertInto('user_tokens')
    .values({
      id,
      user_id: t.userId,
      purpose: t.purpose,
      email: t.email,
      expires_at: new Date(now.getTime() + USER_TOKEN_LIFETIME_MS[t.purpose]).toISOString(),
      used_at: null,
      created_at: now.toISOString(),
    })
    .execute();
  return id;
}

export interface OpenUserToken {
  id: string;
  userId: string;
  purpose: UserTokenPurpose;
  email: string | null;
}

/** The token's record when it is signed, unused and unexpired; else null. */
export async function findOpenUserToken(
  conn: Conn,
  deps: Deps,
  token: string,
): Promise<OpenUserToken | null> {
  const id = idOfSignedToken(deps.keys.userToken, token);
  return id ? findOpenUserTokenById(conn, id, deps.now()) : null;
}

/** An unused, unexpired token by id (what its email is composed from), else null. */
export async function findOpenUserTokenById(
  conn: Conn,
  id: string,
  now: Date,
): Promise<OpenUserToken | null> {
  const r = await conn.selectFrom('user_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r || r.used_at !== null || Date.parse(instant(r.expires_at)) <= now.getTime()) return null;
  return { id: r.id, userId: r.user_id, purpose: r.purpose, email: r.email };
}

/** Spends every open token of the user; false if `id` was already spent (so a link works once). */
export async function spendUserTokens(trx: Conn, userId: string, id: string, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('user_tokens')
    .set({ used_at: at })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  await trx
    .updateTable('user_tokens')
    .set({ used_at: at })
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .execute();
  return true;
}
