import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/** A person the test provider knows: its login (the subject) and the claims it releases. */
export interface TestUser {
  email?: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
}

export const TEST_CLIENT = { id: 'admit-portal', secret: 'test-idp-client-secret-0123456789' };

type Claims = Record<string, unknown>;

/** A compact JWS (RS256) of `claims` under `key`. */
function signJwt(claims: Claims, key: KeyObject, kid: string): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'RS256', typ: 'JWT', kid })}.${part(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/**
 * A real OpenID Provider on loopback (the certified `oidc-provider` package, with its development
 * sign-in and consent pages), for the portal's OpenID Connect tests. `users` are its accounts by
 * login; its one client is TEST_CLIENT with the given redirect URIs. `signIn` plays a browser at the
 * provider: from an authorization URL to the redirect back to the portal, signing in as `login`.
 */
export class TestIdp {
  private server: Server | null = null;
  private provider: Provider | null = null;
  private readonly key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  issuer = '';
  /**
   * When set, the token endpoint's ID tokens are replaced by these claims, re-signed with the
   * provider's own key (or with `key`, which the provider does not publish): an ID token with a
   * wrong issuer, audience or expiry that a provider's bug or an attacker would give.
   */
  tamper: { claims: (claims: Claims) => Claims; key?: KeyObject } | null = null;

  constructor(
    private readonly users: Record<string, TestUser>,
    private readonly redirectUris: string[],
    private readonly extra: Partial<Configuration> = {},
  ) {}

  async start(port = 0): Promise<this> {
    this.server = createServer();
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const users = this.users;
    this.provider = new Provider(this.issuer, {
      clients: [
        {
          client_id: TEST_CLIENT.id,
          client_secret: TEST_CLIENT.secret,
          redirect_uris: this.redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      async findAccount(_ctx, sub) {
        const user = users[sub];
        if (!user) return undefined;
        return { accountId: sub, claims: async () => ({ sub, ...user }) };
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
      // The claims of the scopes go into the ID token, as many providers do.
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      cookies: { keys: ['test-idp-cookie-key'] },
      jwks: {
        keys: [{ ...this.key.export({ format: 'jwk' }), kid: 'test-idp-key', use: 'sig', alg: 'RS256' }],
      },
      features: { devInteractions: { enabled: true } },
      ...this.extra,
    });
    this.provider.on('server_error', () => {});
    this.provider.use(async (ctx, next) => {
      await next();
      const body = ctx.body as { id_token?: string } | undefined;
      if (!this.tamper || ctx.path !== '/token' || typeof body?.id_token !== 'string') return;
      const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1] ?? '', 'base64url').toString());
      body.id_token = signJwt(this.tamper.claims(claims), this.tamper.key ?? this.key, 'test-idp-key');
    });
    const callback = this.provider.callback();
    this.server.on('request', callback);
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  /**
   * Follows `authorizationUrl` at the provider as a browser would: signs in as `login` (or cancels,
   * with `abort`) and consents. Returns the URL the provider sends the browser back to.
   */
  async signIn(authorizationUrl: string, login: string, options: { abort?: boolean } = {}): Promise<string> {
    const jar = new Map<string, string>();
    const send = async (url: string, form?: Record<string, string>) => {
      const res = await fetch(url, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = (pair ?? '').indexOf('=');
        if (i > 0) jar.set((pair as string).slice(0, i), (pair as string).slice(i + 1));
      }
      return res;
    };
    let res = await send(authorizationUrl);
    for (let hops = 0; hops < 12; hops++) {
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, this.issuer);
        if (!next.href.startsWith(this.issuer)) return next.href;
        res = await send(next.href);
        continue;
      }
      const html = await res.text();
      const action = /action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
      if (!action || !prompt)
        throw new Error(`the provider showed no form (${res.status}): ${html.slice(0, 300)}`);
      if (options.abort) {
        const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
        if (!abort) throw new Error('the provider offered no way to cancel');
        res = await send(new URL(abort, this.issuer).href);
        continue;
      }
      res = await send(
        new URL(action, this.issuer).href,
        prompt === 'login' ? { prompt, login, password: 'any' } : { prompt },
      );
    }
    throw new Error('the provider did not send the browser back');
  }
}
