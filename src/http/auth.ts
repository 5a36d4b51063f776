import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, Deps } from '../context.ts';
import { AppError } from '../errors.ts';
import { authenticateApiKey, findUser, type User } from '../modules/users/user.ts';
import { loadSession, type Session } from './session.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated back-office user of an /api/v1 request. */
    user: User | null;
    /** The admin console's session, when the user came with its cookie rather than an API key. */
    adminSession: Session | null;
  }
}

/** The actor of an authenticated request, for audit events. */
export const actorOf = (request: FastifyRequest): Actor => ({
  type: 'user',
  id: request.user?.id ?? null,
  ip: request.ip,
});

/**
 * A route's preHandler for what only administrators do (users and API keys, websites and their
 * settings, email templates, identity providers): 403 FORBIDDEN for an operator, saying so.
 */
export const onlyAdministrators =
  (what: string) =>
  async (request: FastifyRequest): Promise<void> => {
    if (request.user?.role !== 'admin') throw new AppError('FORBIDDEN', `Only administrators ${what}.`);
  };

const BEARER = /^Bearer\s+(\S{1,200})\s*$/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Route options of /api/v1 routes: reachable signed out, or while a new password is due. */
export interface ApiRouteConfig {
  public?: boolean;
  passwordChange?: boolean;
}

/** What the admin console's session keeps. */
export interface AdminSessionData {
  csrf: string;
  mustChangePassword: boolean;
}

/**
 * Guards every route of the scope it is registered in. Either an API key of an enabled user
 * (`Authorization: Bearer …`), or the admin console's session cookie: then every state-changing
 * request must carry the session's CSRF token in `X-CSRF-Token`, and a user whose password must be
 * changed reaches only the session routes. Routes marked `public` (signing in) need neither.
 */
export function requireApiUser(app: FastifyInstance, deps: Deps): void {
  app.decorateRequest('user', null);
  app.decorateRequest('adminSession', null);
  app.addHook('onRequest', async (request) => {
    const config = (request.routeOptions.config ?? {}) as ApiRouteConfig;
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (match?.[1]) {
      const user = await authenticateApiKey(deps, match[1]);
      if (!user)
        throw new AppError(
          'UNAUTHENTICATED',
          'The API key is not valid, was deleted, or its user is disabled.',
        );
      request.user = user;
      return;
    }
    const session = await loadSession(deps, request, 'admin');
    const user = session?.userId ? await findUser(deps.db, session.userId) : undefined;
    if (session && user && !user.disabled) {
      const data = session.data as unknown as AdminSessionData;
      if (!SAFE_METHODS.has(request.method) && !config.public) {
        const sent = Buffer.from(String(request.headers['x-csrf-token'] ?? ''));
        const expected = Buffer.from(data.csrf ?? '');
        if (sent.length !== expected.length || !timingSafeEqual(sent, expected))
          throw new AppError(
            'CSRF_FAILED',
            "Send the session's CSRF token (GET /api/v1/session) as X-CSRF-Token.",
          );
      }
      if (data.mustChangePassword && !config.passwordChange && !config.public)
        throw new AppError(
          'PASSWORD_CHANGE_REQUIRED',
          'Choose a new password: POST /api/v1/session/password.',
        );
      request.user = user;
      request.adminSession = session;
      return;
    }
    if (config.public) return;
    throw new AppError(
      'UNAUTHENTICATED',
      'Sign in (POST /api/v1/session) or send an API key as "Authorization: Bearer <key>".',
    );
  });
}
