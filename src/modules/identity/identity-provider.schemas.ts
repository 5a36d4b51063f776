import { Type } from '@sinclair/typebox';
import { Id, Instant, Line, Name } from '../../http/schemas.ts';

/** An OAuth scope token (RFC 6749 section 3.3). */
const Scope = Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' });

export const IdentityProvider = Type.Object({
  id: Id,
  websiteId: Id,
  protocol: Type.Literal('oidc', { description: 'OpenID Connect (SAML 2.0 may come later)' }),
  displayName: Type.String(),
  buttonLabel: Type.String({ description: 'The portal button, e.g. "Continue with Contoso"' }),
  issuer: Type.String({ description: 'The issuer URL; its discovery document is read from it' }),
  clientId: Type.String(),
  hasClientSecret: Type.Boolean({
    description: 'The client secret is stored (sealed); it is never returned',
  }),
  scopes: Type.Array(Type.String()),
  trustEmailVerified: Type.Boolean({
    description:
      "The provider's email counts as proven when it says email_verified: true (off: its email never proves an inbox)",
  }),
  enabled: Type.Boolean(),
  redirectUri: Type.String({ description: 'The redirect URI to register with the provider for this client' }),
  linkedContacts: Type.Integer({ description: 'Contacts who sign in through this provider' }),
  createdAt: Instant,
  updatedAt: Instant,
});

const fields = {
  displayName: Name(100),
  buttonLabel: Type.Optional(Name(100)),
  issuer: Type.String({
    ...Line(2000, 1),
    description: 'https URL of the provider (plain http only with ADMIT_OIDC_ALLOW_HTTP)',
  }),
  clientId: Name(500),
  clientSecret: Type.String({
    minLength: 1,
    maxLength: 1000,
    pattern: '^[\\x21-\\x7E]+$',
    description: 'Visible ASCII characters, as providers issue them',
  }),
  scopes: Type.Optional(
    Type.Array(Scope, { minItems: 1, maxItems: 30, uniqueItems: true, description: 'Must include openid' }),
  ),
  trustEmailVerified: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean()),
};

export const CreateIdentityProvider = Type.Object(
  { protocol: Type.Optional(Type.Literal('oidc')), ...fields },
  { additionalProperties: false },
);

export const UpdateIdentityProvider = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
});
