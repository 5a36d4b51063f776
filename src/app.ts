import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Deps } from './context.ts';
import { adminConsole } from './http/admin-console.ts';
import { apiV1 } from './http/api.ts';
import { keepForwardedForHonest } from './http/forwarded.ts';
import { healthRoutes } from './http/health.ts';
import { loggerOptions, loggerTo } from './http/logging.ts';
import { metricsRoutes, observeRequests } from './http/metrics.ts';
import { documentProblems } from './http/openapi.ts';
import { clientProblem, frameworkProblem, registerProblemHandlers } from './http/problem.ts';
import { Problem } from './http/schemas.ts';
import { validatorCompiler } from './http/validation.ts';
import { webhookDocuments } from './modules/events/event.ts';
import { portal } from './modules/portal/portal.plugin.ts';

export interface AppOptions {
  /** Where log lines go (tests capture them); default stdout. */
  logStream?: DestinationStream;
}

/** How long a whole request may take to arrive (a large CSV over a slow link fits). */
export const REQUEST_TIMEOUT_MS = 120_000;

/** JSON bodies larger than this are refused with 413; CSV import declares its own limit. */
export const JSON_BODY_LIMIT = 256 * 1024;

/** Builds the whole HTTP application; main.ts listens on it, tests inject into it. */
export async function buildApp(deps: Deps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logStream
      ? { loggerInstance: loggerTo(deps.config.logLevel, options.logStream) }
      : { logger: loggerOptions(deps.config.logLevel) }),
    bodyLimit: JSON_BODY_LIMIT,
    // A request (headers and body) must arrive within this; slower senders get 408.
    requestTimeout: REQUEST_TIMEOUT_MS,
    trustProxy: deps.config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: frameworkProblem,
    clientErrorHandler: clientProblem,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Bodies are JSON (or what a route declares); text/plain would reach JSON routes as a string.
  app.removeContentTypeParser('text/plain');
  // Cookies: the portal's session and CSRF cookies, and the admin console's session on /api/v1.
  await app.register(cookie);
  app.addSchema(Problem);
  registerProblemHandlers(app);
  keepForwardedForHonest(app);
  observeRequests(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Admit API',
        version: '1',
        description:
          'Invite contacts to customer portals: websites, web roles, accounts, contacts, invitations. Every error is application/problem+json with a stable `code`; a path that does not exist answers 404 (NOT_FOUND), a method a path does not accept 405 (METHOD_NOT_ALLOWED) with an `Allow` header.',
      },
      servers: [{ url: deps.config.publicUrl }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transformObject: (d) =>
      'openapiObject' in d
        ? Object.assign(documentProblems(d.openapiObject), { webhooks: webhookDocuments() as never })
        : d.swaggerObject,
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(async (api) => apiV1(api.withTypeProvider<TypeBoxTypeProvider>(), deps), {
    prefix: '/api/v1',
  });
  await app.register(async (site) => portal(site, deps));
  await app.register(adminConsole);
  return app;
}
