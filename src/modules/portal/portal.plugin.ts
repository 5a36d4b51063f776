import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Deps } from '../../context.ts';
import { isDatabaseUnavailable } from '../../db/dialect.ts';
import { AppError } from '../../errors.ts';
import { RETRY_AFTER_SECONDS } from '../../http/problem.ts';
import { RateLimitedError } from '../../http/rate-limit.ts';
import { loadSession } from '../../http/session.ts';
import { unstorableTextAt } from '../../http/validation.ts';
import { portalProvidersOf } from '../identity/identity.ts';
import { findWebsiteBySlug } from '../websites/website.ts';
import { accountRoutes } from './account.routes.ts';
import { externalRoutes } from './external.routes.ts';
import { pageRoutes } from './page.routes.ts';
import { csrfCookie, message, type PortalContext, takeNotice } from './portal.context.ts';
import { findSessionAndContact } from './portal.session.ts';
import { CONTENT_SECURITY_POLICY } from './portal.views.ts';
import { redeemRoutes } from './redeem.routes.ts';

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Form bodies larger than this are refused (413 page). */
const FORM_BODY_LIMIT = 16 * 1024;

/**
 * The portal, server-rendered under /portal/{slug}: cookies, form bodies, CSRF on every POST
 * (checked at preValidation, where the form body is parsed), security headers on every response,
 * friendly error pages, and the request's website, session and contact.
 */
export async function portal(app: FastifyInstance, deps: Deps): Promise<void> {
  // Pages, not API: kept out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT });
  await app.register(csrf, {
    cookieKey: csrfCookie(deps).name,
    cookieOpts: csrfCookie(deps).options,
    getToken: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string,
  });
  app.decorateRequest('portal', null as unknown as PortalContext);

  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ err }, 'database unavailable');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      const lines = ['The portal cannot reach its database right now. Wait a few seconds, then try again.'];
      if (!req.portal) return reply.status(503).type('text/plain; charset=utf-8').send(lines[0]);
      return message(req, reply, 503, 'Back in a moment', lines);
    }
    if (!req.portal) {
      if (!(err instanceof AppError)) req.log.warn({ err }, 'portal error before the website was known');
      return reply.status(404).type('text/plain').send('Not found');
    }
    if (err instanceof RateLimitedError) {
      reply.header('retry-after', String(err.retryAfterSeconds));
      const who = {
        ip: 'from here',
        account: 'for this account',
        code: 'with this invitation',
        everyone: 'right now',
      }[err.scope];
      return message(req, reply, 429, 'Too many attempts', [
        `Too many attempts ${who}. Wait ${err.retryAfterSeconds} seconds, then try again.`,
      ]);
    }
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      return message(req, reply, 403, 'This form has expired', [
        'For your security, forms work only for a while and only from this site. Go back, reload the page and try again.',
      ]);
    }
    if (err instanceof AppError && err.code === 'NOT_FOUND') return notFound(req, reply);
    if (err instanceof AppError && err.status >= 400 && err.status < 500)
      return message(req, reply, 400, 'Something is wrong with that request', [
        err.detail,
        'Go back and try again.',
      ]);
    if (err.statusCode === 413)
      return message(req, reply, 413, 'That is too much', ['The form sent more than this page accepts.']);
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      return message(req, reply, 400, 'Something is wrong with that request', ['Go back and try again.']);
    req.log.error({ err }, 'portal error');
    return message(req, reply, 500, 'Something went wrong', [
      'Something went wrong on our side. Try again in a moment.',
    ]);
  });

  const notFound = (req: Parameters<typeof message>[0], reply: Parameters<typeof message>[1]) =>
    message(req, reply, 404, 'Page not found', ['There is no page at this address.'], {
      href: `${req.portal.base}/`,
      label: 'Go to the home page',
    });

  app.register(
    async (site) => {
      site.addHook('onRequest', async (req, reply) => {
        // Params are not parsed yet for unknown paths (the not-found handler runs these hooks too).
        const slug =
          (req.params as { slug?: string }).slug ??
          decodeURIComponent(req.url.split(/[?#]/)[0]?.split('/')[2] ?? '');
        if (unstorableTextAt(slug)) return reply.status(404).type('text/plain').send('No such portal.');
        const website = await findWebsiteBySlug(deps, slug);
        if (!website) return reply.status(404).type('text/plain').send('No such portal.');
        const session = await loadSession(deps, req, 'portal', findSessionAndContact);
        const onThisSite = session?.websiteId === website.id;
        const contact = onThisSite ? (session?.contact ?? null) : null;
        req.portal = {
          website,
          base: `/portal/${website.slug}`,
          session: onThisSite ? session : null,
          contact: contact?.loginEnabled ? contact : null,
          providers: () => portalProvidersOf(deps, website.id),
          takeNotice: () => takeNotice(deps, req, reply),
        };
      });
      site.addHook('preValidation', (req, reply, done) => {
        if (req.method === 'POST') return site.csrfProtection(req, reply, done);
        done();
      });
      site.setNotFoundHandler((req, reply) => {
        if (!req.portal) return reply.status(404).type('text/plain').send('No such portal.');
        return notFound(req, reply);
      });
      await redeemRoutes(site, deps);
      await externalRoutes(site, deps);
      await accountRoutes(site, deps);
      await pageRoutes(site, deps);
    },
    { prefix: '/portal/:slug' },
  );
}
