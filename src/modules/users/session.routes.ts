import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import type { ApiApp } from '../../http/api.ts';
import type { AdminSessionData, ApiRouteConfig } from '../../http/auth.ts';
import { checkAccountLimit, checkRateLimit, countAccountAttempt } from '../../http/rate-limit.ts';
import { Email, Id, Line, problems } from '../../http/schemas.ts';
import { endSession, saveSession } from '../../http/session.ts';
import { describeUserToken, requestPasswordReset, setPasswordWithToken } from './user.credentials.ts';
import { authenticateUser, changeOwnPassword } from './user.sign-in.ts';

const tags = ['Sign-in'];
const SessionUser = Type.Object({
  user: Type.Object({ id: Id, name: Type.String(), email: Type.String(), role: Type.String() }),
  mustChangePassword: Type.Boolean(),
  csrfToken: Type.Union([Type.String(), Type.Null()], {
    description: 'Send as X-CSRF-Token with every state-changing request of this session',
  }),
});
const Password = Line(1024, 1);
const Token = Line(200, 1);

/**
 * The admin console's sign-in (SPEC 8, 9): a session cookie (`__Host-admit_admin` over https,
 * HttpOnly, SameSite=Lax) in the database, a CSRF token for state-changing requests, the id rotated
 * at sign-in and at a password change.
 */
export async function sessionRoutes(app: ApiApp, deps: Deps): Promise<void> {
  const present = (
    user: { id: string; name: string; email: string; role: string },
    data: AdminSessionData | null,
  ) => ({
    user: { id: user.id, name: user.name, email: user.email, role: user.role },
    mustChangePassword: data?.mustChangePassword ?? false,
    csrfToken: data?.csrf ?? null,
  });

  app.post(
    '/session',
    {
      config: { public: true } satisfies ApiRouteConfig,
      schema: {
        tags,
        summary: 'Sign in to the admin console (sets the session cookie)',
        security: [],
        body: Type.Object({ email: Line(320, 1), password: Password }, { additionalProperties: false }),
        response: { 200: SessionUser, ...problems(400, 401, 429) },
      },
    },
    async (req, reply) => {
      await checkRateLimit(deps, 'admin-signin', req.ip);
      await checkAccountLimit(deps, 'admin-signin', req.body.email, req.ip);
      const found = await authenticateUser(deps, req.body.email, req.body.password);
      if (!found) {
        await countAccountAttempt(deps, 'admin-signin', req.body.email, req.ip);
        throw new AppError('UNAUTHENTICATED', 'The email or password is not right.');
      }
      const data: AdminSessionData = {
        csrf: randomBytes(24).toString('base64url'),
        mustChangePassword: found.mustChangePassword,
      };
      await saveSession(
        deps,
        reply,
        req.adminSession,
        {
          websiteId: null,
          contactId: null,
          userId: found.user.id,
          data: data as unknown as Record<string, unknown>,
        },
        { rotate: true, kind: 'admin' },
      );
      reply.header('cache-control', 'no-store');
      return present(found.user, data);
    },
  );

  app.get(
    '/session',
    {
      config: { passwordChange: true } satisfies ApiRouteConfig,
      schema: {
        tags,
        summary: 'Who is signed in, and the CSRF token',
        response: { 200: SessionUser, ...problems(401) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const user = req.user as NonNullable<typeof req.user>;
      return present(user, (req.adminSession?.data as unknown as AdminSessionData) ?? null);
    },
  );

  app.delete(
    '/session',
    {
      config: { passwordChange: true } satisfies ApiRouteConfig,
      schema: { tags, summary: 'Sign out', response: { 204: Type.Null(), ...problems(401) } },
    },
    async (req, reply) => {
      await endSession(deps, reply, req.adminSession, 'admin');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/session/password',
    {
      config: { passwordChange: true } satisfies ApiRouteConfig,
      schema: {
        tags,
        summary: 'Change your own password (required after a generated one)',
        body: Type.Object(
          { currentPassword: Password, newPassword: Password },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...problems(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const user = req.user as NonNullable<typeof req.user>;
      await changeOwnPassword(deps, user, req.body, req.ip);
      if (req.adminSession) {
        const data = { ...(req.adminSession.data as unknown as AdminSessionData), mustChangePassword: false };
        await saveSession(
          deps,
          reply,
          req.adminSession,
          {
            websiteId: null,
            contactId: null,
            userId: user.id,
            data: data as unknown as Record<string, unknown>,
          },
          { rotate: true, kind: 'admin' },
        );
      }
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/session/forgot-password',
    {
      config: { public: true } satisfies ApiRouteConfig,
      schema: {
        tags,
        summary: 'Mail a link to choose a new password',
        description:
          'Answers 202 whether or not a user has this email, so it does not tell who has an account. The link works for an hour.',
        security: [],
        body: Type.Object({ email: Email }, { additionalProperties: false }),
        response: { 202: Type.Null(), ...problems(400, 429) },
      },
    },
    async (req, reply) => {
      await checkRateLimit(deps, 'admin-forgot', req.ip);
      await checkAccountLimit(deps, 'admin-forgot', req.body.email, req.ip);
      await countAccountAttempt(deps, 'admin-forgot', req.body.email, req.ip);
      await requestPasswordReset(deps, req.body.email, req.ip);
      return reply.status(202).send(null);
    },
  );

  app.post(
    '/session/link',
    {
      config: { public: true } satisfies ApiRouteConfig,
      schema: {
        tags,
        summary: 'What a set-password link is for (the invitation or a reset), and for whom',
        security: [],
        body: Type.Object({ token: Token }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            purpose: Type.Union([Type.Literal('invite'), Type.Literal('reset-password')]),
            email: Type.String(),
            name: Type.String(),
          }),
          ...problems(400, 410, 429),
        },
      },
    },
    async (req) => {
      await checkRateLimit(deps, 'admin-link', req.ip);
      const link = await describeUserToken(deps, req.body.token);
      if (!link)
        throw new AppError(
          'TOKEN_NOT_VALID',
          'This link has expired or was already used. Ask for a new one with "Forgot your password?".',
        );
      return link;
    },
  );

  app.post(
    '/session/set-password',
    {
      config: { public: true } satisfies ApiRouteConfig,
      schema: {
        tags,
        summary: 'Set a password with a link (an invitation or a reset); then sign in with it',
        security: [],
        body: Type.Object({ token: Token, password: Password }, { additionalProperties: false }),
        response: { 200: Type.Object({ email: Type.String() }), ...problems(400, 410, 429) },
      },
    },
    async (req) => {
      await checkRateLimit(deps, 'admin-link', req.ip);
      return setPasswordWithToken(deps, req.body.token, req.body.password, req.ip);
    },
  );
}
