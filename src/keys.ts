import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Purpose-bound keys derived from ADMIT_SECRET with HKDF-SHA-256, so one secret never serves two
 * purposes. Changing ADMIT_SECRET invalidates every invitation code and API key, and makes the stored client
 * secrets of identity providers unreadable (they must be entered again).
 */
export interface Keys {
  /** Derives invitation codes from (invitation id, code version). */
  readonly invitationCode: Buffer;
  /** Keys the stored lookup hash of an invitation code. */
  readonly invitationCodeLookup: Buffer;
  /** Keys the stored hash of an API key. */
  readonly apiKey: Buffer;
  /** Signs one-time contact tokens (password reset, email confirmation) over their id. */
  readonly contactToken: Buffer;
  /** Signs the one-time links of back-office users (users/user.tokens.ts). */
  readonly userToken: Buffer;
  /** The HMAC key of the CSRF tokens' secret. */
  readonly csrf: Buffer;
  /** Derives each webhook signing secret from (endpoint or workflow id, secret version). */
  readonly webhookSecret: Buffer;
  /** Seals the client secrets of identity providers (secret-box.ts). */
  readonly identityProviderSecret: Buffer;
  /** Derives the first administrator's one-time password from its user id (user.sign-in.ts). */
  readonly firstAdminPassword: Buffer;
}

export function deriveKeys(secret: string): Keys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'admit', info, 32));
  return Object.freeze({
    invitationCode: derive('invitation-code'),
    invitationCodeLookup: derive('invitation-code-lookup'),
    apiKey: derive('api-key'),
    contactToken: derive('contact-token'),
    userToken: derive('user-token'),
    csrf: derive('csrf'),
    webhookSecret: derive('webhook-secret'),
    identityProviderSecret: derive('identity-provider-secret'),
    firstAdminPassword: derive('first-admin-password'),
  });
}

export const hmacHex = (key: Buffer, data: string): string =>
  createHmac('sha256', key).update(data).digest('hex');

/**
 * A one-time link's token: `{id}.{HMAC(key, id)}`, so the table behind it keeps only the id and a
 * token is checked without a lookup by secret.
 */
export const signedToken = (key: Buffer, id: string): string => `${id}.${hmacHex(key, id)}`;

/** The id of a well-formed token signed with `key` (signedToken), else null; constant-time. */
export function idOfSignedToken(key: Buffer, token: string): string | null {
  const m = /^([0-9a-f-]{36})\.([0-9a-f]{64})$/.exec(token);
  if (!m) return null;
  const [, id, mac] = m as unknown as [string, string, string];
  return timingSafeEqual(Buffer.from(hmacHex(key, id)), Buffer.from(mac)) ? id : null;
}
