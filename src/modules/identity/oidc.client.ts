import * as oidc from 'openid-client';
import type { Deps } from '../../context.ts';
import { isEmailAddress } from '../../email-address.ts';
import type { ExternalIdentity } from '../invitations/invitation.ts';
import type { FlowProvider } from './identity-provider.service.ts';

/**
 * The relying party (openid-client): the authorization code flow with PKCE, `state` and `nonce`,
 * and an ID token validated for its issuer, audience, signature, expiry and nonce. Discovery is
 * cached per provider for a while, and read again when the provider is edited.
 */

/** How long a provider's discovery document is kept. */
const DISCOVERY_TTL_MS = 10 * 60_000;
/** How long Admit waits for the provider, per request. */
const PROVIDER_TIMEOUT_SECONDS = 5;

/** The provider cannot be reached, or its discovery document is not valid: sign-in with it is unavailable. */
export class ProviderUnavailable extends Error {}

/**
 * The provider's answer was refused: an error response, a failed token exchange, or an ID token
 * that does not validate. `reason` is for the logs (an error code, never a token).
 */
export class SignInRefused extends Error {
  constructor(
    readonly kind: 'provider-error' | 'invalid',
    readonly reason: string,
  ) {
    super(`sign-in refused: ${reason}`);
  }
}

/** What a flow keeps in the browser's session between the start and the callback. */
export interface FlowChecks {
  state: string;
  nonce: string;
  verifier: string;
}

const cache = new Map<string, { config: oidc.Configuration; key: string; at: number }>();

async function configurationOf(deps: Deps, p: FlowProvider): Promise<oidc.Configuration> {
  const key = `${p.issuer}\n${p.clientId}\n${p.updatedAt}`;
  const hit = cache.get(p.id);
  if (hit && hit.key === key && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.config;
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(new URL(p.issuer), p.clientId, undefined, undefined, {
      execute: deps.config.oidcAllowHttp ? [oidc.allowInsecureRequests] : [],
      timeout: PROVIDER_TIMEOUT_SECONDS,
    });
  } catch (err) {
    throw new ProviderUnavailable(`discovery of ${p.issuer} failed: ${(err as Error).message}`);
  }
  // The client authenticates in the body where the provider says it may, else with Basic (what
  // Discovery means when the provider names no method).
  const methods = config.serverMetadata().token_endpoint_auth_methods_supported;
  const basicOnly = !methods?.includes('client_secret_post');
  config = new oidc.Configuration(
    config.serverMetadata(),
    p.clientId,
    p.clientSecret,
    basicOnly ? oidc.ClientSecretBasic(p.clientSecret) : oidc.ClientSecretPost(p.clientSecret),
  );
  config.timeout = PROVIDER_TIMEOUT_SECONDS;
  if (deps.config.oidcAllowHttp) oidc.allowInsecureRequests(config);
  // The ID token's signature is checked against the provider's keys, not only its TLS connection.
  oidc.enableNonRepudiationChecks(config);
  cache.set(p.id, { config, key, at: Date.now() });
  return config;
}

/** The provider's authorization URL for a new flow, and the checks its callback must pass. */
export async function startFlow(
  deps: Deps,
  p: FlowProvider,
  redirectUri: string,
): Promise<{ url: string; checks: FlowChecks }> {
  const config = await configurationOf(deps, p);
  const checks = {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier: oidc.randomPKCECodeVerifier(),
  };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: p.scopes.join(' '),
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(checks.verifier),
    code_challenge_method: 'S256',
    state: checks.state,
    nonce: checks.nonce,
  });
  return { url: url.href, checks };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: names must not carry control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const cleanName = (v: unknown) => (typeof v === 'string' ? v.replace(CONTROL, '').trim().slice(0, 100) : '');
// biome-ignore lint/suspicious/noControlCharactersInRegex: a subject must not carry control characters
const CONTROL_IN_SUBJECT = /[\u0000-\u001f\u007f]/;

/**
 * Completes a flow from the callback's query: exchanges the code (with the PKCE verifier), validates
 * the ID token, and says who the person is. The email is read from the ID token, else from the
 * UserInfo endpoint; it counts as verified only when the provider says so and the website trusts it
 * to. Throws SignInRefused or ProviderUnavailable.
 */
export async function finishFlow(
  deps: Deps,
  p: FlowProvider,
  redirectUri: string,
  query: Record<string, string>,
  checks: FlowChecks,
): Promise<ExternalIdentity> {
  const config = await configurationOf(deps, p);
  const current = new URL(redirectUri);
  for (const [k, v] of Object.entries(query)) current.searchParams.set(k, v);
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: checks.verifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    throw classify(err);
  }
  const claims = tokens.claims();
  if (
    !claims ||
    typeof claims.sub !== 'string' ||
    claims.sub.length === 0 ||
    claims.sub.length > 255 ||
    CONTROL_IN_SUBJECT.test(claims.sub)
  )
    throw new SignInRefused('invalid', 'the ID token has no usable subject');
  let info: Record<string, unknown> = claims;
  if (typeof claims.email !== 'string' && tokens.access_token) {
    try {
      info = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
    } catch (err) {
      throw classify(err);
    }
  }
  // An address the portal's own forms would refuse is no address (it proves nothing, links nothing).
  const email =
    typeof info.email === 'string' && info.email.length <= 254 && isEmailAddress(info.email)
      ? info.email
      : null;
  return {
    providerId: p.id,
    subject: claims.sub,
    email,
    emailVerified: email !== null && p.trustEmailVerified && info.email_verified === true,
    firstName: cleanName(info.given_name),
    lastName: cleanName(info.family_name),
  };
}

/** Sorts a failure of the provider's answer: unreachable, its own error, or an answer that does not validate. */
function classify(err: unknown): Error {
  if (err instanceof oidc.AuthorizationResponseError)
    return new SignInRefused('provider-error', `provider error ${err.error}`);
  if (err instanceof oidc.ResponseBodyError)
    return new SignInRefused('invalid', `token endpoint error ${err.error}`);
  const cause = (err as { cause?: unknown }).cause;
  if (
    cause instanceof TypeError ||
    (cause instanceof Error && (cause.name === 'AbortError' || cause.name === 'TimeoutError')) ||
    (err instanceof Error &&
      (err.name === 'AbortError' || err.name === 'TimeoutError' || err instanceof TypeError))
  )
    return new ProviderUnavailable(`the provider did not answer: ${(err as Error).message}`);
  const code = (err as { code?: string }).code;
  return new SignInRefused('invalid', `${code ?? 'validation failed'}: ${innermostMessage(err)}`);
}

/** The message of the deepest Error in a chain of causes (openid-client wraps what failed). */
function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  let at = err;
  for (let i = 0; i < 5 && at instanceof Error; i++) {
    message = at.message;
    at = at.cause;
  }
  return message;
}
