import { Type } from '@sinclair/typebox';
import { Id, Instant, ListQuery, Nullable } from '../../http/schemas.ts';

export const OperationFailure = Type.Object({
  position: Type.Integer({
    description: 'The CSV line (the header is line 1), or the index from 1 in the list',
  }),
  item: Nullable(Type.String({ description: 'The contact id or email the item named' })),
  code: Type.String(),
  detail: Type.String(),
});

export const Operation = Type.Object({
  id: Id,
  kind: Type.String({ description: 'contacts.import or invitations.bulk' }),
  status: Type.Union([
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
  ]),
  input: Type.Record(Type.String(), Type.Unknown(), {
    description: 'What the operation does: the options it was started with',
  }),
  total: Type.Integer({ description: 'Items (lines, contacts) in the operation' }),
  done: Type.Integer({ description: 'Items done so far' }),
  created: Type.Integer({ description: 'Contacts (import) or invitations (bulk) created' }),
  skipped: Type.Integer({ description: 'Import lines whose email some contact already has' }),
  queued: Type.Integer({ description: 'Invitations whose email was queued to send' }),
  failed: Type.Integer({ description: 'Items that failed (listed in failures)' }),
  error: Nullable(Type.String({ description: 'Why the operation stopped, when it failed' })),
  createdAt: Instant,
  updatedAt: Instant,
  finishedAt: Nullable(Instant),
  failures: Type.Array(OperationFailure, { description: 'The first 100 failures, in input order' }),
  moreFailures: Type.Boolean({ description: 'More failures than listed: see /operations/{id}/failures' }),
});

export const ListOperationsQuery = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('contacts.import'), Type.Literal('invitations.bulk')])),
    ...ListQuery,
  },
  { additionalProperties: false },
);

export const FailuresQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Failures after this position' }),
    ),
    limit: ListQuery.limit,
  },
  { additionalProperties: false },
);
export const FailuresPage = Type.Object({
  items: Type.Array(OperationFailure),
  nextAfter: Nullable(Type.Integer()),
});
