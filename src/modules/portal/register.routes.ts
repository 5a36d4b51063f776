import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { checkAccountLimit, checkRateLimit, countAccountAttempt } from '../../http/rate-limit.ts';
import { invitationTag } from '../invitations/invitation.ts';
import {
  clientOf,
  dataOf,
  type FormError,
  field,
  grantNotice,
  message,
  pendingRef,
  redeemerOf,
  render,
  returnOf,
  returnQuery,
  signInSession,
  tokenOf,
} from './portal.context.ts';
import type { RedeemPages } from './redeem.routes.ts';
import { afterRegistration } from './redirects.ts';
import { completeHeldRegistration, heldRegistrationEmail, register } from './registration.service.ts';

/**
 * Registration (SPEC 5): the form (with the pending invitation, or open registration), and the
 * confirmation link of a registration held until its inbox is proven. Returns the register page,
 * which the landing's GET /register shows.
 */
export async function registerRoutes(app: FastifyInstance, deps: Deps, pages: RedeemPages) {
  const page = (
    req: FastifyRequest,
    reply: FastifyReply,
    vars?: { errors?: FormError[]; form?: Record<string, string> },
    status?: number,
  ) => registerPage(deps, pages, req, reply, vars, status);

  app.post('/register', async (req, reply) => {
    pages.requireRegistration(req);
    await checkRateLimit(deps, 'register', req.ip);
    const { website } = req.portal;
    const ref = pages.pendingOrNull(req);
    if (field(req.body, 'invitation') !== invitationTag(ref)) return pages.changed(req, reply);
    if (!ref && !(website.settings.openRegistrationEnabled && website.settings.localLoginEnabled))
      return pages.invalidCode(req, reply);
    if (!website.settings.localLoginEnabled) throw new AppError('NOT_FOUND', 'no local login');
    const form = {
      email: field(req.body, 'email'),
      username: field(req.body, 'username'),
      password: field(req.body, 'password', true),
      confirmPassword: field(req.body, 'confirmPassword', true),
    };
    let result: Awaited<ReturnType<typeof register>>;
    try {
      result = await register(deps, website, form, ref, clientOf(req));
    } catch (err) {
      if (err instanceof AppError && err.code === 'ACCOUNT_EXISTS') return accountExists(req, reply);
      if (err instanceof AppError && err.code === 'INVITATION_NOT_REDEEMABLE')
        return pages.refused(req, reply);
      throw err;
    }
    if ('errors' in result)
      return page(
        req,
        reply,
        { errors: result.errors, form: { email: form.email, username: form.username } },
        422,
      );
    if ('held' in result)
      return message(req, reply, 200, 'Check your email', [
        `We sent a link to ${result.held.email}. Open it and enter the password you chose to accept the invitation.`,
        'Nothing changes until you do. The link works for a day.',
      ]);
    await signInSession(
      deps,
      req,
      reply,
      result.contact,
      result.redeemed ? await grantNotice(deps, website, result.contact.id) : {},
    );
    const { base } = req.portal;
    return reply.redirect(
      afterRegistration(website, base, result.contact, returnOf(req), result.redeemed),
      303,
    );
  });

  app.get('/confirm-registration', async (req, reply) => {
    const token = tokenOf(req.query);
    const email = await heldRegistrationEmail(deps, req.portal.website, token);
    if (!email) return expired(req, reply);
    return confirmPage(req, reply, { token, email });
  });

  app.post('/confirm-registration', async (req, reply) => {
    await checkRateLimit(deps, 'confirm', req.ip);
    const { website, base } = req.portal;
    const token = tokenOf(req.body);
    await checkAccountLimit(deps, 'confirm', token, req.ip);
    let done: Awaited<ReturnType<typeof completeHeldRegistration>>;
    try {
      done = await completeHeldRegistration(
        deps,
        website,
        token,
        field(req.body, 'password', true),
        clientOf(req),
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'ACCOUNT_EXISTS') return accountExists(req, reply);
      if (err instanceof AppError && err.code === 'INVITATION_NOT_REDEEMABLE') return expired(req, reply);
      throw err;
    }
    if ('invalid' in done) return expired(req, reply);
    if ('errors' in done) {
      await countAccountAttempt(deps, 'confirm', token, req.ip);
      const email = (await heldRegistrationEmail(deps, website, token)) ?? '';
      return confirmPage(req, reply, { token, email, errors: done.errors }, 422);
    }
    await signInSession(deps, req, reply, done.contact, await grantNotice(deps, website, done.contact.id));
    return reply.redirect(afterRegistration(website, base, done.contact, null, true), 303);
  });

  return page;
}

/**
 * The register page: for the pending invitation (or open registration), or where the visitor must
 * go instead (the confirmation when signed in, the redeem form, a refusal).
 */
async function registerPage(
  deps: Deps,
  pages: RedeemPages,
  req: FastifyRequest,
  reply: FastifyReply,
  vars: { errors?: FormError[]; form?: Record<string, string> } = {},
  status = 200,
) {
  const { website, session, base } = req.portal;
  const s = website.settings;
  const rq = returnQuery(returnOf(req));
  const kept = dataOf(session).pending;
  if (kept && 'invalid' in kept) return pages.invalidCode(req, reply);
  const ref = pendingRef(session);
  if (ref && !pages.invitationsOn(req)) return pages.invalidCode(req, reply);
  if (ref && (await redeemerOf(deps, req))) return reply.redirect(`${base}/redeem/confirm${rq}`, 303);
  const pending = ref ? await pages.describeFor(req, ref) : null;
  if (ref && !pending) return pages.refused(req, reply);
  if (!pending && !(s.openRegistrationEnabled && s.localLoginEnabled)) {
    if (pages.invitationsOn(req)) return reply.redirect(`${base}/redeem${rq}`, 303);
    throw new AppError('NOT_FOUND', 'no registration');
  }
  if (!s.localLoginEnabled && !(pending && s.externalLoginEnabled))
    throw new AppError('NOT_FOUND', 'no local login');
  // A Single invitation registers under the address it was sent to, unless the website lets the
  // invitee give another one (confirmed before anything is granted).
  const emailLocked = pending?.type === 'single' && !!pending.invitedEmail && !s.invitationEmailChangeAllowed;
  return render(
    req,
    reply,
    'register',
    {
      title: pending ? `Accept your invitation to ${website.name}` : `Create your ${website.name} account`,
      invitation: pending,
      tag: invitationTag(ref),
      emailLocked,
      emailHint:
        pending?.type === 'single' && !emailLocked
          ? 'Another address than the one the invitation was sent to must be confirmed first.'
          : undefined,
      byEmail: s.localLoginByEmail,
      form: {
        email: pending?.invitedEmail ?? '',
        ...vars.form,
        ...(emailLocked ? { email: pending.invitedEmail } : {}),
      },
      errors: vars.errors,
      returnQuery: rq,
    },
    status,
  );
}

/** An existing user at registration: the website's Existing User Page, else a sign-in link. */
function accountExists(req: FastifyRequest, reply: FastifyReply) {
  const { website, base } = req.portal;
  if (website.existingUserPath) return reply.redirect(`${base}${website.existingUserPath}`, 303);
  return message(
    req,
    reply,
    409,
    'You already have an account',
    [
      'An account already uses this email or username. Sign in with it, and you can then redeem the invitation.',
    ],
    { href: `${base}/signin${returnQuery(returnOf(req))}`, label: 'Sign in' },
  );
}

/** 410: the held registration's link has expired or was used. */
const expired = (req: FastifyRequest, reply: FastifyReply) =>
  message(
    req,
    reply,
    410,
    'This link no longer works',
    ['The link has expired or has already been used. Open your invitation link again to register.'],
    { href: `${req.portal.base}/redeem`, label: 'Redeem an invitation' },
  );

/** The page that completes a held registration with the password chosen. */
const confirmPage = (
  req: FastifyRequest,
  reply: FastifyReply,
  v: { token: string; email: string; errors?: FormError[] },
  status = 200,
) => render(req, reply, 'confirm-registration', { title: 'Accept your invitation', ...v }, status);
