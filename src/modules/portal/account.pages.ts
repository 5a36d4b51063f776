import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { getAccount, getContact } from '../contacts/contact.ts';
import { findWebRolesByIds } from '../websites/website.ts';
import { type FormError, message, pendingRef, render, returnOf, returnQuery } from './portal.context.ts';

/** The pages and checks the account routes share (account.routes.ts). */

/** 404 unless the website signs in with local accounts. */
export const requireLocalLogin = (req: FastifyRequest): void => {
  if (!req.portal.website.settings.localLoginEnabled) throw new AppError('NOT_FOUND', 'no local login');
};

/** The sign-in page, with `vars` (errors, the login typed) and `status`. */
export const signInPage = (
  req: FastifyRequest,
  reply: FastifyReply,
  vars: { errors?: FormError[]; login?: string } = {},
  status = 200,
) =>
  render(
    req,
    reply,
    'signin',
    {
      title: 'Sign in',
      byEmail: req.portal.website.settings.localLoginByEmail,
      pending: pendingRef(req.portal.session) !== null,
      form: { login: vars.login ?? '' },
      errors: vars.errors,
      returnQuery: returnQuery(returnOf(req)),
    },
    status,
  );

/** 410: the emailed link `what` has expired or was used, with a way to ask again (`href`, `label`). */
export const expiredLink = (
  req: FastifyRequest,
  reply: FastifyReply,
  what: string,
  href: string,
  label: string,
) =>
  message(
    req,
    reply,
    410,
    'This link no longer works',
    [`The ${what} link has expired or has already been used.`],
    {
      href: `${req.portal.base}${href}`,
      label,
    },
  );

/** The profile of the signed-in contact (401 without one): names, email, its roles and account. */
export const profilePage = async (
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  vars: { errors?: FormError[]; form?: Record<string, string>; notice?: string } = {},
  status = 200,
) => {
  const { contact: row, website } = req.portal;
  if (!row) throw new AppError('UNAUTHENTICATED', 'sign in');
  const contact = await getContact(deps, row.id);
  const roles = (await findWebRolesByIds(deps.db, contact.webRoleIds))
    .filter((r) => r.websiteId === website.id)
    .map((r) => r.name)
    .sort();
  const account = contact.parentAccountId ? (await getAccount(deps, contact.parentAccountId)).name : null;
  const providers = website.settings.externalLoginEnabled ? await req.portal.providers() : [];
  const linked = contact.externalLogins.filter((l) => l.websiteId === website.id);
  const linkedIds = new Set(linked.map((l) => l.providerId));
  return render(
    req,
    reply,
    'profile',
    {
      title: 'Your profile',
      roles,
      account,
      pendingEmail: contact.pendingEmail,
      externalLogins:
        providers.length > 0 || linked.length > 0
          ? {
              linked,
              available: providers.filter((p) => !linkedIds.has(p.id)),
            }
          : null,
      notice: vars.notice,
      errors: vars.errors,
      form: vars.form ?? {
        firstName: contact.firstName,
        lastName: contact.lastName,
        email: contact.email ?? '',
      },
    },
    status,
  );
};

/** Null for a signed-in contact; else the redirect to sign in and come back to the profile. */
export const toSignInUnlessSignedIn = (req: FastifyRequest, reply: FastifyReply) =>
  req.portal.contact
    ? null
    : reply.redirect(`${req.portal.base}/signin?returnurl=${encodeURIComponent('/profile')}`, 303);
