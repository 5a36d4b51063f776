import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, Deps } from '../context.ts';
import { AppError } from '../errors.ts';
import { authenticateApiKey, type User } from '../modules/users/user.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated back-office user of an /api/v1 request. */
    user: User | null;
  }
}

/** The actor of an authenticated request, for audit events. */
export const actorOf = (request: FastifyRequest): Actor => ({
  type: 'user',
  id: request.user?.id ?? null,
  ip: request.ip,
});

const BEARER = /^Bearer\s+(\S{1,200})\s*$/i;

/**
 * Guards every route of the scope it is registered in: a valid API key of an enabled user
 * (`Authorization: Bearer …`). The admin console's session cookie joins here with its issue.
 */
export function requireApiUser(app: FastifyInstance, deps: Deps): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request) => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match?.[1]) {
      throw new AppError('UNAUTHENTICATED', 'Send an API key as "Authorization: Bearer <key>".');
    }
    const user = await authenticateApiKey(deps, match[1]);
    if (!user)
      throw new AppError(
        'UNAUTHENTICATED',
        'The API key is not valid, was deleted, or its user is disabled.',
      );
    request.user = user;
  });
}
