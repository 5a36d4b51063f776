import { Type } from '@sinclair/typebox';
import { Id, Instant, Line, ListQuery, Name, Nullable } from '../../http/schemas.ts';

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
  invitedContactsOnly: Type.Boolean({ description: 'Group: only its invited contacts may redeem it' }),
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

export const InvitationDetail = Type.Composite([
  Invitation,
  Type.Object({
    owner: Nullable(Type.Object({ id: Id, name: Type.String(), email: Type.String() })),
    inviter: Nullable(
      Type.Object({
        id: Id,
        firstName: Type.String(),
        lastName: Type.String(),
        email: Nullable(Type.String()),
      }),
    ),
  }),
]);

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
  invitedContactsOnly: Type.Optional(
    Type.Boolean({ description: 'Group only: only its invited contacts may redeem it (default false)' }),
  ),
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
  sort: Type.Optional(
    Type.Union([Type.Literal('newest'), Type.Literal('oldest'), Type.Literal('name')], {
      description: 'newest first (the default), oldest first, or by name',
    }),
  ),
});

export const InviteRedemption = Type.Object({
  id: Id,
  invitationId: Id,
  contactId: Id,
  username: Nullable(Type.String()),
  method: Type.Union([Type.Literal('register'), Type.Literal('signin'), Type.Literal('external')]),
  identityProviderId: Nullable(Id),
  ipAddress: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  createdAt: Instant,
});

const ErrorCodeField = Type.Optional(
  Type.String({ description: 'Why the item was rejected (a stable code)' }),
);

export const SendItem = Type.Object({
  invitationId: Id,
  status: Type.Union([Type.Literal('queued'), Type.Literal('rejected')]),
  code: ErrorCodeField,
  detail: Type.Optional(Type.String()),
  emailIds: Type.Optional(Type.Array(Id)),
  failedNoPrimaryEmail: Type.Optional(
    Type.Integer({ description: 'Invited contacts without a primary email (their Email is failed)' }),
  ),
});

export const SendResults = Type.Object({ items: Type.Array(SendItem) });
export const SendMany = Type.Object(
  { ids: Type.Array(Id, { minItems: 1, maxItems: 10_000, uniqueItems: true }) },
  { additionalProperties: false },
);

export const CreateInvitationWithSend = Type.Object(
  {
    ...CreateInvitation.properties,
    send: Type.Optional(Type.Boolean({ description: 'Send it now, in the same call' })),
    skipInvited: Type.Optional(
      Type.Boolean({
        description:
          'Leave out the invited contacts who already hold an open invitation to this website; a Single invitation (or a Group left with no one) is then not created: 409 ALREADY_INVITED',
      }),
    ),
  },
  { additionalProperties: false },
);
const OpenInvitation = Type.Object({ contactId: Id, invitationId: Id, name: Type.String() });
export const CreatedInvitation = Type.Composite([
  InvitationWithCode,
  Type.Object({
    send: Type.Optional(SendItem),
    alreadyInvited: Type.Array(OpenInvitation, {
      description:
        'The open invitations to this website its invited contacts already held: a warning, or with skipInvited the contacts left out',
    }),
  }),
]);

/** The most contact ids one request may carry. */
export const MAX_BULK_IDS = 100_000;
/** More ids than this run as a bulk operation (202) rather than in the request. */
export const SYNC_BULK_IDS = 10_000;

const BulkOptionFields = {
  websiteId: Id,
  webRoleIds: Type.Optional(Type.Array(Id, { maxItems: 200, uniqueItems: true })),
  assignToAccountId: Type.Optional(Nullable(Id)),
  redemptionWorkflowId: Type.Optional(Nullable(Id)),
  expiresAt: Type.Optional(Nullable(Instant)),
  ownerId: Type.Optional(Id),
  inviterContactId: Type.Optional(Nullable(Id)),
  send: Type.Optional(Type.Boolean()),
  skipInvited: Type.Optional(
    Type.Boolean({
      description:
        'Skip the contacts that already hold an open (new or sent) invitation to this website; default false: they are invited again and counted in alreadyInvited',
    }),
  ),
};

export const BulkInvite = Type.Object(
  {
    ...BulkOptionFields,
    contactIds: Type.Optional(
      Type.Array(Id, {
        minItems: 1,
        maxItems: MAX_BULK_IDS,
        description: `The contacts to invite; more than ${SYNC_BULK_IDS} run as a bulk operation`,
      }),
    ),
    matching: Type.Optional(
      Type.Object(
        { search: Type.Optional(Line(200)) },
        {
          additionalProperties: false,
          description:
            'Instead of contactIds: every contact matching the search (all without one), as a bulk operation',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const BulkCsvQuery = Type.Object(
  {
    ...BulkOptionFields,
    webRoleIds: Type.Optional(
      Type.String({
        maxLength: 200 * 37,
        pattern: '^[0-9a-fA-F-]{36}(,[0-9a-fA-F-]{36})*$',
        description: 'Web role ids, separated by commas',
      }),
    ),
  },
  { additionalProperties: false },
);

export const BulkResult = Type.Object({
  created: Type.Integer(),
  queued: Type.Integer(),
  rejected: Type.Integer(),
  skipped: Type.Integer({ description: 'Contacts skipped by skipInvited' }),
  alreadyInvited: Type.Integer({
    description: 'Contacts that already held an open invitation to the website (skipped or invited again)',
  }),
  items: Type.Array(
    Type.Object({
      contactId: Id,
      status: Type.Union([
        Type.Literal('created'),
        Type.Literal('queued'),
        Type.Literal('rejected'),
        Type.Literal('skipped'),
      ]),
      invitationId: Type.Optional(Id),
      openInvitationId: Type.Optional(Id),
      code: ErrorCodeField,
      detail: Type.Optional(Type.String()),
      emailIds: Type.Optional(Type.Array(Id)),
      failedNoPrimaryEmail: Type.Optional(
        Type.Integer({ description: 'Queued, but the contact has no primary email: that email failed' }),
      ),
    }),
  ),
});

export const CheckOpenInvitations = Type.Object(
  {
    websiteId: Id,
    contactIds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: MAX_BULK_IDS })),
    matching: Type.Optional(
      Type.Object({ search: Type.Optional(Line(200)) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const OpenInvitationsCheck = Type.Object({
  total: Type.Integer({ description: 'Contacts checked' }),
  alreadyInvited: Type.Integer({ description: 'Of them, those holding an open invitation to the website' }),
  examples: Type.Array(
    Type.Composite([
      OpenInvitation,
      Type.Object({ firstName: Type.String(), lastName: Type.String(), email: Nullable(Type.String()) }),
    ]),
    { description: 'The first ten of them' },
  ),
});
