import { createHash } from 'node:crypto';
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

/**
 * The frame the console shows an email in (the outbox, the template preview), as a mail client
 * would: the console posts the message's HTML to it once, and it becomes that message. Its own
 * policy allows the message's inline styles and nothing else (no scripts of the message, no
 * images, no requests); the console embeds it sandboxed (allow-scripts, without allow-same-origin,
 * without popups), so even its one script has no access to the console or its cookies. Before it
 * writes the message, the script takes away every way the message could move the frame to another
 * page (whose scripts would run there): refresh headers, and links, which then target a new window
 * the sandbox does not open.
 */
const FRAME_SCRIPT = [
  "addEventListener('message',function(e){",
  "if(e.source!==parent||typeof e.data!=='string')return;",
  "var d=new DOMParser().parseFromString(e.data,'text/html');",
  "d.querySelectorAll('meta[http-equiv],base').forEach(function(n){n.remove()});",
  "d.querySelectorAll('[href],[action],[formaction]').forEach(function(n){n.setAttribute('target','_blank');n.removeAttribute('formtarget')});",
  "var b=d.createElement('base');b.setAttribute('target','_blank');d.head.prepend(b);",
  "document.open();document.write('<!doctype html>'+d.documentElement.outerHTML);document.close()",
  '},{once:true})',
].join('');
const FRAME_HTML = `<!doctype html><html><head><meta charset="utf-8"><script>${FRAME_SCRIPT}</script></head><body></body></html>`;
const FRAME_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(FRAME_SCRIPT).digest('base64')}'`,
  "style-src 'unsafe-inline'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
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
  app.get('/admin/message-frame', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', FRAME_CSP)
      .header('cache-control', 'no-cache')
      .send(FRAME_HTML),
  );
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
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
