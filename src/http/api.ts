import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  preValidationHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteOptions,
} from 'fastify';
import type { Deps } from '../context.ts';
import { AppError } from '../errors.ts';
import { jobRoutes } from '../jobs/job.routes.ts';
import { accountRoutes } from '../modules/contacts/account.routes.ts';
import { contactRoutes } from '../modules/contacts/contact.routes.ts';
import { emailRoutes } from '../modules/emails/email.routes.ts';
import { auditRoutes } from '../modules/events/audit.routes.ts';
import { webhookRoutes } from '../modules/events/webhook.routes.ts';
import { identityProviderRoutes } from '../modules/identity/identity-provider.routes.ts';
import { invitationRoutes } from '../modules/invitations/invitation.routes.ts';
import { redemptionRoutes } from '../modules/invitations/redemption.routes.ts';
import { operationRoutes } from '../modules/operations/operation.routes.ts';
import { statsRoutes } from '../modules/stats/stats.routes.ts';
import { sessionRoutes } from '../modules/users/session.routes.ts';
import { userRoutes } from '../modules/users/user.routes.ts';
import { webPageRoutes } from '../modules/websites/web-page.routes.ts';
import { websiteRoutes } from '../modules/websites/website.routes.ts';
import { runRoutes } from '../modules/workflows/run.routes.ts';
import { workflowRoutes } from '../modules/workflows/workflow.routes.ts';
import { requireApiUser } from './auth.ts';

/**
 * A route that declares no JSON body (an action such as /send or /deactivate) refuses one with
 * fields, as routes with a body schema refuse unknown fields: a field sent is never silently ignored.
 * Routes that read another content type (the CSV import) declare it with `config.rawBody`.
 */
function refuseUndeclaredBodies(route: RouteOptions): void {
  if (route.schema?.body || (route.config as { rawBody?: boolean } | undefined)?.rawBody) return;
  const check: preValidationHookHandler = (req, _reply, done) => {
    const body = req.body as unknown;
    const fields = body !== null && typeof body === 'object' ? Object.keys(body) : [];
    if (body === undefined || body === null || (typeof body === 'object' && fields.length === 0))
      return done();
    const errors =
      fields.length > 0
        ? fields.map((f) => ({ path: `/${f}`, message: 'is not a known field' }))
        : [{ path: '', message: 'this endpoint takes no body' }];
    done(new AppError('VALIDATION_FAILED', 'This endpoint takes no body.', errors));
  };
  const existing = route.preValidation;
  route.preValidation = existing ? [...(Array.isArray(existing) ? existing : [existing]), check] : [check];
}

/** The Fastify instance the module routes receive: TypeBox schemas type the handlers. */
export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The admin REST API under /api/v1: every route authenticated, every route with schemas. */
export async function apiV1(app: ApiApp, deps: Deps): Promise<void> {
  requireApiUser(app, deps);
  app.addHook('onRoute', refuseUndeclaredBodies);
  await websiteRoutes(app, deps);
  await webPageRoutes(app, deps);
  await identityProviderRoutes(app, deps);
  await accountRoutes(app, deps);
  await contactRoutes(app, deps);
  await invitationRoutes(app, deps);
  await redemptionRoutes(app, deps);
  await emailRoutes(app, deps);
  await workflowRoutes(app, deps);
  await runRoutes(app, deps);
  await auditRoutes(app, deps);
  await webhookRoutes(app, deps);
  await statsRoutes(app, deps);
  await jobRoutes(app, deps);
  await operationRoutes(app, deps);
  await userRoutes(app, deps);
  await sessionRoutes(app, deps);
}
