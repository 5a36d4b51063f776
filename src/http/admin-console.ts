import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the admin console (web/admin, built by `npm run build` into dist/admin) at /admin. The
 * console is static files and talks only to /api/v1; any /admin/… path that is not a file is the
 * app itself (its screens live in the address's fragment).
 */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** dist/admin of the project this file belongs to (src/http/… or dist/src/http/…). */
function consoleDir(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const built = path.join(dir, 'dist', 'admin');
      return existsSync(path.join(built, 'index.html')) ? built : null;
    }
    dir = path.dirname(dir);
  }
  return null;
}

export async function adminConsole(app: FastifyInstance): Promise<void> {
  const root = consoleDir();
  // The server's own address opens the console (portals live under /portal/{slug}).
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/admin', 302));
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    done(null, payload);
  });
  if (!root) {
    app.get('/admin', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type('text/plain')
        .send('The admin console is not built yet: run npm run build (npm start does it).'),
    );
    return;
  }
  await app.register(fastifyStatic, { root, prefix: '/admin/', decorateReply: false, index: false });
  // The app itself at /admin (and /admin/: the router ignores trailing slashes).
  const html = readFileSync(path.join(root, 'index.html'));
  app.get('/admin', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html),
  );
}
