import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { inUseOr } from '../../db/dialect.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { AppError, notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { recordAudit } from '../events/event.ts';
import type { Account } from './account.repository.ts';
import * as repo from './account.repository.ts';

export type { Account };

export async function createAccount(deps: Deps, actor: Actor, input: { name: string }): Promise<Account> {
  const now = deps.now().toISOString();
  const account: Account = { id: newId(), name: input.name, createdAt: now, updatedAt: now };
  await deps.db.transaction().execute(async (trx) => {
    await repo.insertAccount(trx, account);
    await recordAudit(
      trx,
      deps,
      actor,
      'account.created',
      { type: 'account', id: account.id },
      { name: account.name },
    );
  });
  return account;
}

export async function getAccount(deps: Deps, id: string): Promise<Account> {
  const a = await repo.findAccount(deps.db, id);
  if (!a) throw notFound('account', id);
  return a;
}

export async function listAccounts(
  deps: Deps,
  q: { search?: string; limit: number; cursor?: string },
): Promise<Page<Account>> {
  const rows = await repo.findAccounts(deps.db, {
    search: q.search,
    before: decodeCursor(q.cursor),
    limit: q.limit + 1,
  });
  return toPage(rows, q.limit);
}

export async function updateAccount(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: { name?: string },
): Promise<Account> {
  return deps.db.transaction().execute(async (trx) => {
    const current = await repo.findAccount(trx, id);
    if (!current) throw notFound('account', id);
    const next = { ...current, name: patch.name ?? current.name, updatedAt: deps.now().toISOString() };
    await repo.updateAccount(trx, next);
    await recordAudit(trx, deps, actor, 'account.updated', { type: 'account', id }, { changes: patch });
    return next;
  });
}

/** Deletes an account nobody refers to (409 IN_USE while a contact or an invitation does). */
export async function deleteAccount(deps: Deps, actor: Actor, id: string): Promise<void> {
  await inUseOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findAccount(trx, id);
        if (!current) throw notFound('account', id);
        await repo.deleteAccount(trx, id);
        await recordAudit(
          trx,
          deps,
          actor,
          'account.deleted',
          { type: 'account', id },
          { name: current.name },
        );
      }),
    () => new AppError('IN_USE', 'Contacts or invitations refer to this account; change them first.'),
  );
}

export async function accountExists(conn: Conn, id: string): Promise<boolean> {
  return (await repo.findAccount(conn, id)) !== undefined;
}
