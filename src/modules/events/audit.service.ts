import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { derivedId, newId } from '../../ids.ts';
import { findUsersByIds } from '../users/user.ts';
import { AUDIT_ACTIONS, type AuditAction } from './audit.actions.ts';
import {
  type AuditEvent,
  auditEventWrites,
  findAuditEvent,
  findAuditEvents,
  insertAuditEvents,
  updateAuditEventData,
} from './audit.repository.ts';

export type { AuditAction, AuditEvent };

/**
 * Records one audit event inside the caller's transaction, so the trail and the change commit
 * together. `data` must never hold a secret (code, password, key): callers pass what changed.
 */
export async function recordAudit(...args: Parameters<typeof auditWrites>): Promise<void> {
  for (const q of auditWrites(...args)) await args[0].executeQuery(q);
}

/** One audit event per entity, written in batches (bulk operations). */
export async function recordAuditMany(
  trx: Conn,
  deps: Pick<Deps, 'now'>,
  actor: Actor,
  action: AuditAction,
  items: readonly { entity: { type: string; id: string }; data: Record<string, unknown> }[],
): Promise<void> {
  await insertAuditEvents(trx, auditEvents(deps, actor, action, items));
}

/** The statements `recordAudit` runs, for a caller's write batch (db/write-batch.ts). */
export const auditWrites = (
  trx: Conn,
  deps: Pick<Deps, 'now'>,
  actor: Actor,
  action: AuditAction,
  entity: { type: string; id: string },
  data: Record<string, unknown> = {},
) => auditEventWrites(trx, auditEvents(deps, actor, action, [{ entity, data }]));

/**
 * One audit event for many occurrences of `action` on `entity` within the window that starts at
 * `windowStart` (e.g. an invitation's refused attempts in one minute): created by the first, its data
 * replaced by `merge(previous data)` for each next one. Runs its own short transaction.
 */
export async function recordAggregateAudit(
  deps: Pick<Deps, 'db' | 'now'>,
  actor: Actor,
  action: AuditAction,
  entity: { type: string; id: string },
  windowStart: string,
  merge: (previous: Record<string, unknown> | null) => Record<string, unknown>,
): Promise<void> {
  const id = derivedId(Date.parse(windowStart), `${action}:${entity.type}:${entity.id}:${windowStart}`);
  const once = () =>
    deps.db.transaction().execute(async (trx) => {
      const previous = await findAuditEvent(trx, id, { lock: true });
      if (previous) return updateAuditEventData(trx, id, merge(previous.data));
      const [event] = auditEvents(deps, actor, action, [{ entity, data: merge(null) }]);
      await insertAuditEvents(trx, [{ ...(event as AuditEvent), id }]);
    });
  // Two first occurrences at once: the one that lost the insert finds the event the second time.
  await once().catch((err: unknown) => {
    if (isUniqueViolation(err)) return once();
    throw err;
  });
}

function auditEvents(
  deps: Pick<Deps, 'now'>,
  actor: Actor,
  action: AuditAction,
  items: readonly { entity: { type: string; id: string }; data: Record<string, unknown> }[],
): AuditEvent[] {
  const at = deps.now().toISOString();
  return items.map(({ entity, data }) => ({
    id: newId(),
    actor: { type: actor.type, id: actor.id },
    action,
    entityType: entity.type,
    entityId: entity.id,
    data,
    ipAddress: actor.ip,
    createdAt: at,
  }));
}

/** An audit event as people read it: the action in words, and the name of the user who acted. */
export interface AuditEventView extends AuditEvent {
  summary: string;
  actor: AuditEvent['actor'] & { name: string | null };
}

export async function listAuditEvents(
  deps: Deps,
  q: { entityType?: string; entityId?: string; limit: number; cursor?: string },
): Promise<Page<AuditEventView>> {
  const before = decodeCursor(q.cursor);
  const page = toPage(await findAuditEvents(deps.db, { ...q, before, limit: q.limit + 1 }), q.limit);
  const userIds = [
    ...new Set(page.items.flatMap((e) => (e.actor.type === 'user' && e.actor.id ? [e.actor.id] : []))),
  ];
  const names = new Map((await findUsersByIds(deps.db, userIds)).map((u) => [u.id, u.name]));
  return {
    ...page,
    items: page.items.map((e) => ({
      ...e,
      summary: AUDIT_ACTIONS[e.action as AuditAction] ?? e.action,
      actor: {
        ...e.actor,
        name: e.actor.type === 'user' && e.actor.id ? (names.get(e.actor.id) ?? null) : null,
      },
    })),
  };
}
