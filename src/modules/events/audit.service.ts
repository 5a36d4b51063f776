import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { decodeCursor, type Page, toPage } from '../../db/paging.ts';
import { newId } from '../../ids.ts';
import { type AuditEvent, auditEventWrites, findAuditEvents, insertAuditEvents } from './audit.repository.ts';

export type { AuditEvent };

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
  action: string,
  items: readonly { entity: { type: string; id: string }; data: Record<string, unknown> }[],
): Promise<void> {
  await insertAuditEvents(trx, auditEvents(deps, actor, action, items));
}

/** The statements `recordAudit` runs, for a caller's write batch (db/write-batch.ts). */
export const auditWrites = (
  trx: Conn,
  deps: Pick<Deps, 'now'>,
  actor: Actor,
  action: string,
  entity: { type: string; id: string },
  data: Record<string, unknown> = {},
) => auditEventWrites(trx, auditEvents(deps, actor, action, [{ entity, data }]));

function auditEvents(
  deps: Pick<Deps, 'now'>,
  actor: Actor,
  action: string,
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

export async function listAuditEvents(
  deps: Deps,
  q: { entityType?: string; entityId?: string; limit: number; cursor?: string },
): Promise<Page<AuditEvent>> {
  const before = decodeCursor(q.cursor);
  const rows = await findAuditEvents(deps.db, { ...q, before, limit: q.limit + 1 });
  return toPage(rows, q.limit);
}
