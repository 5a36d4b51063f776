import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { renderHtmlLiquid } from '../../mail/liquid.ts';
import { getContact } from '../contacts/contact.ts';
import { findWebPageByPath } from '../websites/website.ts';
import { fullName, message, render } from './portal.context.ts';

/**
 * The portal home and web pages at /p/{path}. Every page checks who may read it: public pages
 * anyone; others a signed-in contact (else to sign-in, coming back here), and when the page lists
 * web roles, a contact holding one of them (else a friendly 403).
 */
export async function pageRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/', async (req, reply) =>
    render(req, reply, 'home', { title: req.portal.website.name, pages: [] }),
  );

  app.get('/p/*', async (req, reply) => {
    const { website, contact, base } = req.portal;
    const path = (req.params as { '*': string })['*'].replace(/\/+$/, '');
    const page = path ? await findWebPageByPath(deps, website.id, path) : undefined;
    if (!page) throw new AppError('NOT_FOUND', `no web page at ${path}`);
    if (!page.public) {
      if (!contact)
        return reply.redirect(`${base}/signin?returnurl=${encodeURIComponent(`/p/${path}`)}`, 303);
      if (page.webRoleIds.length > 0) {
        const held = new Set((await getContact(deps, contact.id)).webRoleIds);
        if (!page.webRoleIds.some((r) => held.has(r))) {
          return message(
            req,
            reply,
            403,
            'You do not have access to this page',
            [
              `This page is for members with a particular role, and your account (${fullName(contact)}) does not have it.`,
              'If you think you should have access, ask the person who invited you.',
            ],
            { href: `${base}/`, label: 'Go to the home page' },
          );
        }
      }
    }
    const content = await renderHtmlLiquid(page.content, {
      contact: contact
        ? { firstName: contact.firstName, lastName: contact.lastName, fullName: fullName(contact) }
        : null,
      website: { name: website.name },
    });
    return render(req, reply, 'page', { title: page.title, content });
  });
}
