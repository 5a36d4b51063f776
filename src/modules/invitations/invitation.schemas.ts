import { Type } from '@sinclair/typebox';
import { Id, Instant, ListQuery, Name, Nullable } from '../../http/schemas.ts';

const Status = Type.Union(
  [
    Type.Literal('new'),
    Type.Literal('sent'),
    Type.Literal('redeemed'),
    Type.Literal('expired'),
    Type.Literal('inactive'),
  ],
  {
    description:
      'Derived: inactive, else redeemed (count reached the maximum), else expired, else sent or new',
  },
);

const ContactIds = Type.Array(Id, { maxItems: 1000, uniqueItems: true });
const WebRoleIds = Type.Array(Id, { maxItems: 200, uniqueItems: true });

export const Invitation = Type.Object({
  id: Id,
  name: Type.String(),
  type: Type.Union([Type.Literal('single'), Type.Literal('group')]),
  websiteId: Id,
  ownerId: Id,
  inviterContactId: Nullable(Id),
  invitedContactIds: Type.Array(Id),
  expiresAt: Nullable(Instant),
  assignToAccountId: Nullable(Id),
  redemptionWorkflowId: Nullable(Id),
  webRoleIds: Type.Array(Id),
  maxRedemptions: Type.Integer(),
  redemptionCount: Type.Integer(),
  redeemedContactIds: Type.Array(Id),
  state: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
  statusReason: Type.Union([
    Type.Literal('new'),
    Type.Literal('sent'),
    Type.Literal('redeemed'),
    Type.Literal('inactive'),
  ]),
  status: Status,
  lastSentAt: Nullable(Instant),
  createdAt: Instant,
  updatedAt: Instant,
});

export const Code = Type.Object({
  code: Type.String({
    description: 'The invitation code, grouped; matched ignoring case, spaces and hyphens',
  }),
  redemptionUrl: Type.String({ description: '{website.baseUrl}/register?returnurl=%2F&invitation={code}' }),
});

export const InvitationWithCode = Type.Composite([Invitation, Code]);

const editable = {
  name: Type.Optional(Name()),
  ownerId: Type.Optional(Id),
  inviterContactId: Type.Optional(Nullable(Id)),
  invitedContactIds: Type.Optional(ContactIds),
  expiresAt: Type.Optional(Nullable(Instant)),
  assignToAccountId: Type.Optional(Nullable(Id)),
  redemptionWorkflowId: Type.Optional(Nullable(Id)),
  webRoleIds: Type.Optional(WebRoleIds),
  maxRedemptions: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
};

export const CreateInvitation = Type.Object(
  {
    type: Type.Union([Type.Literal('single'), Type.Literal('group')]),
    websiteId: Id,
    ...editable,
  },
  { additionalProperties: false },
);

export const UpdateInvitation = Type.Object(editable, { additionalProperties: false, minProperties: 1 });

export const ListInvitationsQuery = Type.Object({
  ...ListQuery,
  status: Type.Optional(Status),
  websiteId: Type.Optional(Id),
  contactId: Type.Optional(Id),
  search: Type.Optional(Type.String({ maxLength: 200 })),
});

export const InviteRedemption = Type.Object({
  id: Id,
  invitationId: Id,
  contactId: Id,
  username: Nullable(Type.String()),
  method: Type.Union([Type.Literal('register'), Type.Literal('signin'), Type.Literal('external')]),
  ipAddress: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  createdAt: Instant,
});
