import { Type } from '@sinclair/typebox';
import { Email, Id, Instant, Name, NO_CONTROL_CHARACTERS, Nullable } from '../../http/schemas.ts';

const Username = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: `^[^\\s${NO_CONTROL_CHARACTERS}]+$`,
  description: 'Sign-in name; no spaces',
});

export const Contact = Type.Object({
  id: Id,
  firstName: Type.String(),
  lastName: Type.String(),
  email: Nullable(Type.String()),
  email2: Nullable(Type.String()),
  email3: Nullable(Type.String()),
  parentAccountId: Nullable(Id),
  username: Nullable(Type.String()),
  loginEnabled: Type.Boolean(),
  emailConfirmed: Type.Boolean(),
  webRoleIds: Type.Array(Id),
  externalLogins: Type.Array(
    Type.Object({
      id: Id,
      provider: Type.String({ description: "The identity provider's display name" }),
      providerId: Id,
      websiteId: Id,
      subject: Type.String({ description: "The provider's identifier of the person (OpenID Connect `sub`)" }),
      email: Nullable(Type.String({ description: "The provider's email when the login was linked" })),
      linkedAt: Instant,
      lastUsedAt: Nullable(Instant),
    }),
    { description: 'Identity providers linked to the contact; it signs in with any of them' },
  ),
  lastSignInAt: Nullable(Instant),
  pendingEmail: Nullable(
    Type.String({ description: 'A new primary email waiting for confirmation; email stays until then' }),
  ),
  createdAt: Instant,
  updatedAt: Instant,
});

export const WebsiteAccess = Type.Object({
  contactId: Id,
  websiteId: Id,
  source: Type.Union([Type.Literal('redemption'), Type.Literal('registration'), Type.Literal('admin')], {
    description: 'How the access was given: redeeming an invitation, open registration, an administrator',
  }),
  createdAt: Instant,
});
export const GrantWebsiteAccess = Type.Object({ websiteId: Id }, { additionalProperties: false });

const contactFields = {
  firstName: Name(100),
  lastName: Name(100),
  email: Type.Optional(Nullable(Email)),
  email2: Type.Optional(Nullable(Email)),
  email3: Type.Optional(Nullable(Email)),
  parentAccountId: Type.Optional(Nullable(Id)),
  username: Type.Optional(Nullable(Username)),
  loginEnabled: Type.Optional(Type.Boolean()),
  webRoleIds: Type.Optional(Type.Array(Id, { maxItems: 500, uniqueItems: true })),
};

export const CreateContact = Type.Object(contactFields, { additionalProperties: false });
export const UpdateContact = Type.Partial(CreateContact, { additionalProperties: false, minProperties: 1 });

/** One CSV line: the import's columns, as text. */
export const ContactCsvRow = Type.Object(
  {
    firstName: Name(100),
    lastName: Name(100),
    email: Type.Optional(Email),
    email2: Type.Optional(Email),
    email3: Type.Optional(Email),
    parentAccountId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const ImportReport = Type.Object({
  created: Type.Integer(),
  skipped: Type.Integer(),
  failed: Type.Integer(),
  lines: Type.Array(
    Type.Object({
      line: Type.Integer({ description: 'Line number in the file; the header is line 1' }),
      status: Type.Union([Type.Literal('created'), Type.Literal('skipped'), Type.Literal('failed')]),
      contactId: Type.Optional(Id),
      errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  ),
});

export const Account = Type.Object({ id: Id, name: Type.String(), createdAt: Instant, updatedAt: Instant });
export const CreateAccount = Type.Object({ name: Name() }, { additionalProperties: false });
export const UpdateAccount = Type.Object({ name: Name() }, { additionalProperties: false });
