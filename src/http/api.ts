import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Deps } from '../context.ts';
import { accountRoutes } from '../modules/contacts/account.routes.ts';
import { contactRoutes } from '../modules/contacts/contact.routes.ts';
import { emailRoutes } from '../modules/emails/email.routes.ts';
import { auditRoutes } from '../modules/events/audit.routes.ts';
import { invitationRoutes } from '../modules/invitations/invitation.routes.ts';
import { statsRoutes } from '../modules/stats/stats.routes.ts';
import { sessionRoutes } from '../modules/users/session.routes.ts';
import { userRoutes } from '../modules/users/user.routes.ts';
import { webPageRoutes } from '../modules/websites/web-page.routes.ts';
import { websiteRoutes } from '../modules/websites/website.routes.ts';
import { workflowRoutes } from '../modules/workflows/workflow.routes.ts';
import { requireApiUser } from './auth.ts';

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
  await websiteRoutes(app, deps);
  await webPageRoutes(app, deps);
  await accountRoutes(app, deps);
  await contactRoutes(app, deps);
  await invitationRoutes(app, deps);
  await emailRoutes(app, deps);
  await workflowRoutes(app, deps);
  await auditRoutes(app, deps);
  await statsRoutes(app, deps);
  await userRoutes(app, deps);
  await sessionRoutes(app, deps);
}
