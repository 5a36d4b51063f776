import { Type } from '@sinclair/typebox';
import { Id, Instant, Name, Nullable, PortalPath, Text } from '../../http/schemas.ts';

const settingsProperties = {
  registrationEnabled: Type.Boolean({
    description: 'Master switch; off: the redeem and register pages answer 404',
  }),
  invitationEnabled: Type.Boolean({ description: 'The Redeem Invitation page and code lookups' }),
  openRegistrationEnabled: Type.Boolean({ description: 'Sign-up without a code' }),
  localLoginEnabled: Type.Boolean({ description: 'Username/password sign-in and registration' }),
  localLoginByEmail: Type.Boolean({ description: 'The email is the username' }),
  externalLoginEnabled: Type.Boolean({ description: 'External identity providers' }),
  requireUniqueEmail: Type.Boolean({ description: 'Two contacts who can sign in never share an email' }),
  emailConfirmationEnabled: Type.Boolean({
    description: 'Confirmation emails for changed or unconfirmed emails',
  }),
  profileRedirectEnabled: Type.Boolean({
    description: 'After first sign-in go to the profile when incomplete',
  }),
  defaultInvitationLifetimeDays: Type.Integer({
    minimum: 1,
    maximum: 3650,
    description: 'Default expiry of invitations',
  }),
  allowNonExpiringInvitations: Type.Boolean({ description: 'Allow expiresAt: null' }),
  redeemByOtherContactAllowed: Type.Boolean({
    description: 'A Single invitation may be redeemed by a contact other than the invited one',
  }),
  invitationEmailChangeAllowed: Type.Boolean({
    description:
      'An invitee may register a Single invitation under another email, confirmed before anything is granted',
  }),
};

export const WebsiteSettings = Type.Object(settingsProperties, { additionalProperties: false });
const SettingsPatch = Type.Partial(Type.Object(settingsProperties, { additionalProperties: false }));

const Slug = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'Lower-case letters, digits and hyphens; used in portal URLs',
});
const BaseUrl = Type.String({
  maxLength: 2000,
  format: 'uri',
  description: 'Absolute base URL of the portal',
});

export const Website = Type.Object({
  id: Id,
  name: Type.String(),
  slug: Type.String(),
  baseUrl: Type.String(),
  baseUrlIsDefault: Type.Boolean(),
  settings: WebsiteSettings,
  existingUserPath: Nullable(Type.String()),
  redirectPath: Nullable(Type.String()),
  createdAt: Instant,
  updatedAt: Instant,
});

export const CreateWebsite = Type.Object(
  {
    name: Name(),
    slug: Slug,
    baseUrl: Type.Optional(Nullable(BaseUrl)),
    settings: Type.Optional(SettingsPatch),
    existingUserPath: Type.Optional(Nullable(PortalPath)),
    redirectPath: Type.Optional(Nullable(PortalPath)),
  },
  { additionalProperties: false },
);

export const UpdateWebsite = Type.Partial(CreateWebsite, { additionalProperties: false, minProperties: 1 });

export const WebRole = Type.Object({
  id: Id,
  websiteId: Id,
  name: Type.String(),
  description: Nullable(Type.String()),
  createdAt: Instant,
  updatedAt: Instant,
});

export const CreateWebRole = Type.Object(
  { name: Name(), description: Type.Optional(Nullable(Text())) },
  { additionalProperties: false },
);
export const UpdateWebRole = Type.Partial(CreateWebRole, { additionalProperties: false, minProperties: 1 });

const PagePath = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?(?:/[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)*$',
  description: 'Served at {baseUrl}/p/{path}: lower-case letters, digits, dots, dashes, underscores, slashes',
});

export const WebPage = Type.Object({
  id: Id,
  websiteId: Id,
  path: Type.String(),
  title: Type.String(),
  content: Type.String(),
  public: Type.Boolean(),
  webRoleIds: Type.Array(Id),
  createdAt: Instant,
  updatedAt: Instant,
});

export const CreateWebPage = Type.Object(
  {
    path: PagePath,
    title: Name(),
    content: Type.String({ maxLength: 200_000, description: 'Liquid; HTML output is escaped' }),
    public: Type.Optional(Type.Boolean({ description: 'Anyone may read it, signed in or not' })),
    webRoleIds: Type.Optional(
      Type.Array(Id, {
        maxItems: 200,
        uniqueItems: true,
        description: 'Only contacts with one of these roles may read it (empty: any signed-in contact)',
      }),
    ),
  },
  { additionalProperties: false },
);
export const UpdateWebPage = Type.Partial(CreateWebPage, { additionalProperties: false, minProperties: 1 });
