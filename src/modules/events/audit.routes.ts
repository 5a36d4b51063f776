import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { Id, Instant, ListQuery, Nullable, PageOf, problems } from '../../http/schemas.ts';
import { listAuditEvents } from './audit.service.ts';

const AuditEvent = Type.Object({
  id: Id,
  actor: Type.Object({
    type: Type.String(),
    id: Nullable(Id),
    name: Nullable(Type.String({ description: "The user's name when a user acted" })),
  }),
  action: Type.String(),
  summary: Type.String({ description: 'The action in words, e.g. "Invitation deactivated"' }),
  entityType: Type.String(),
  entityId: Id,
  data: Type.Record(Type.String(), Type.Unknown()),
  ipAddress: Nullable(Type.String()),
  createdAt: Instant,
});

export async function auditRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.get(
    '/audit-events',
    {
      schema: {
        tags: ['Audit'],
        summary: 'The audit trail, newest first',
        querystring: Type.Object({
          ...ListQuery,
          entityType: Type.Optional(Type.String({ maxLength: 50 })),
          entityId: Type.Optional(Id),
        }),
        response: { 200: PageOf(AuditEvent), ...problems(400) },
      },
    },
    async (req) =>
      listAuditEvents(deps, {
        entityType: req.query.entityType,
        entityId: req.query.entityId,
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      }),
  );
}
