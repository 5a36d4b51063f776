import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { checkAccountLimit, checkRateLimit, countAccountAttempt } from '../../http/rate-limit.ts';
import { endSession } from '../../http/session.ts';
import {
  expiredLink,
  profilePage,
  requireLocalLogin,
  signInPage,
  toSignInUnlessSignedIn,
} from './account.pages.ts';
import {
  confirmEmailToken,
  forgotPassword,
  isTokenValid,
  resetPassword,
  saveProfile,
  signIn,
  tokenEmail,
} from './account.service.ts';
import {
  clientOf,
  field,
  keepInSession,
  message,
  pendingRef,
  redeemerOf,
  render,
  returnOf,
  returnQuery,
  rotateCsrfSecret,
  signInSession,
  tokenOf,
  verifyForRedemption,
} from './portal.context.ts';
import { afterSignIn } from './redirects.ts';

/** Sign in and out, forgotten passwords, email confirmation and the profile (SPEC 5). */
export async function accountRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/signin', async (req, reply) => {
    const s = req.portal.website.settings;
    if (!s.localLoginEnabled && !s.externalLoginEnabled) throw new AppError('NOT_FOUND', 'no sign-in');
    const { base } = req.portal;
    if (await redeemerOf(deps, req)) {
      if (pendingRef(req.portal.session))
        return reply.redirect(`${base}/redeem/confirm${returnQuery(returnOf(req))}`, 303);
      return reply.redirect(`${base}/`, 303);
    }
    return signInPage(req, reply);
  });

  app.post('/signin', async (req, reply) => {
    requireLocalLogin(req);
    await checkRateLimit(deps, 'signin', req.ip);
    const { website, base, session } = req.portal;
    const login = field(req.body, 'login');
    const pending = pendingRef(session);
    const result = await signIn(
      deps,
      website,
      { login, password: field(req.body, 'password', true) },
      pending,
      clientOf(req),
    );
    if ('errors' in result) return signInPage(req, reply, { errors: result.errors, login }, 401);
    const rq = returnQuery(returnOf(req));
    if ('verified' in result) {
      // Credentials proven for the pending redemption only: no access to this website until it is done.
      if (!pending) throw new Error('verified without a pending invitation');
      await verifyForRedemption(deps, req, reply, result.verified, pending);
      return reply.redirect(`${base}/redeem/confirm${rq}`, 303);
    }
    // A pending invitation survives the sign-in (rotation keeps the data), then asks to be confirmed.
    await signInSession(deps, req, reply, result.contact, pending ? { pending } : {});
    if (pending) return reply.redirect(`${base}/redeem/confirm${rq}`, 303);
    return reply.redirect(afterSignIn(website, base, result.contact, returnOf(req)), 303);
  });

  /** Signs out; `continue=invitation` keeps the pending invitation for the person who continues. */
  app.post('/signout', async (req, reply) => {
    await checkRateLimit(deps, 'signout', req.ip);
    const { base, session } = req.portal;
    const pending = field(req.body, 'continue') === 'invitation' ? pendingRef(session) : null;
    await endSession(deps, reply, session);
    req.portal.session = null;
    req.portal.contact = null;
    if (!pending) return reply.redirect(`${base}/`, 303);
    await keepInSession(deps, req, reply, { pending });
    rotateCsrfSecret(deps, req, reply);
    return reply.redirect(`${base}/register`, 303);
  });

  app.get('/forgot-password', async (req, reply) => {
    requireLocalLogin(req);
    return render(req, reply, 'forgot', { title: 'Forgot your password?', form: {} });
  });

  app.post('/forgot-password', async (req, reply) => {
    requireLocalLogin(req);
    await checkRateLimit(deps, 'forgot', req.ip);
    const email = field(req.body, 'email');
    const result = await forgotPassword(deps, req.portal.website, email);
    if ('errors' in result)
      return render(
        req,
        reply,
        'forgot',
        { title: 'Forgot your password?', errors: result.errors, form: { email } },
        422,
      );
    return message(req, reply, 200, 'Check your email', [
      `If an account uses ${email}, we have sent it a link to choose a new password. The link works for an hour.`,
    ]);
  });

  app.get('/reset-password', async (req, reply) => {
    requireLocalLogin(req);
    const token = tokenOf(req.query);
    if (!(await isTokenValid(deps, req.portal.website, token, 'reset-password')))
      return expiredLink(req, reply, 'password reset', '/forgot-password', 'Ask for a new link');
    return render(req, reply, 'reset', { title: 'Choose a new password', token });
  });

  app.post('/reset-password', async (req, reply) => {
    requireLocalLogin(req);
    await checkRateLimit(deps, 'reset', req.ip);
    const token = tokenOf(req.body);
    const result = await resetPassword(
      deps,
      req.portal.website,
      token,
      {
        password: field(req.body, 'password', true),
        confirmPassword: field(req.body, 'confirmPassword', true),
      },
      clientOf(req),
    );
    if ('invalid' in result)
      return expiredLink(req, reply, 'password reset', '/forgot-password', 'Ask for a new link');
    if ('errors' in result)
      return render(
        req,
        reply,
        'reset',
        { title: 'Choose a new password', token, errors: result.errors },
        422,
      );
    if (req.portal.session) await endSession(deps, reply, req.portal.session);
    req.portal.contact = null;
    return message(req, reply, 200, 'Your password has been changed', ['Sign in with your new password.'], {
      href: `${req.portal.base}/signin`,
      label: 'Sign in',
    });
  });

  app.get('/confirm-email', async (req, reply) => {
    const token = tokenOf(req.query);
    const email = await tokenEmail(deps, req.portal.website, token);
    if (!email) return expiredLink(req, reply, 'confirmation', '/profile', 'Go to your profile');
    return render(req, reply, 'confirm-email', { title: 'Confirm your email', token, email });
  });

  app.post('/confirm-email', async (req, reply) => {
    await checkRateLimit(deps, 'confirm', req.ip);
    const token = tokenOf(req.body);
    await checkAccountLimit(deps, 'confirm', token, req.ip);
    let confirmed: Awaited<ReturnType<typeof confirmEmailToken>>;
    try {
      confirmed = await confirmEmailToken(
        deps,
        req.portal.website,
        token,
        field(req.body, 'password', true),
        clientOf(req),
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'ACCOUNT_EXISTS')
        return message(req, reply, 409, 'This email is taken', [
          'Another account uses this email address now, so it cannot become yours. Your email stays as it was.',
        ]);
      throw err;
    }
    if ('invalid' in confirmed)
      return expiredLink(req, reply, 'confirmation', '/profile', 'Go to your profile');
    if ('errors' in confirmed) {
      await countAccountAttempt(deps, 'confirm', token, req.ip);
      const email = (await tokenEmail(deps, req.portal.website, token)) ?? '';
      return render(
        req,
        reply,
        'confirm-email',
        { title: 'Confirm your email', token, email, errors: confirmed.errors },
        422,
      );
    }
    return message(req, reply, 200, 'Your email is confirmed', ['Thank you.'], {
      href: `${req.portal.base}/`,
      label: 'Continue',
    });
  });

  app.get(
    '/profile',
    async (req, reply) => toSignInUnlessSignedIn(req, reply) ?? profilePage(deps, req, reply),
  );

  app.post('/profile', async (req, reply) => {
    const redirect = toSignInUnlessSignedIn(req, reply);
    if (redirect) return redirect;
    await checkRateLimit(deps, 'profile', req.ip);
    const form = {
      firstName: field(req.body, 'firstName'),
      lastName: field(req.body, 'lastName'),
      email: field(req.body, 'email'),
    };
    const { website, contact } = req.portal;
    let result: Awaited<ReturnType<typeof saveProfile>>;
    try {
      result = await saveProfile(deps, website, contact as NonNullable<typeof contact>, form, clientOf(req));
    } catch (err) {
      if (
        err instanceof AppError &&
        (err.code === 'ACCOUNT_EXISTS' || err.code === 'EMAIL_CHANGE_UNAVAILABLE')
      )
        return profilePage(
          deps,
          req,
          reply,
          {
            errors: [
              {
                field: 'email',
                message:
                  err.code === 'ACCOUNT_EXISTS' ? 'Another account already uses this email.' : err.detail,
              },
            ],
            form,
          },
          409,
        );
      throw err;
    }
    if ('errors' in result) return profilePage(deps, req, reply, { errors: result.errors, form }, 422);
    req.portal.contact = result.contact;
    return profilePage(deps, req, reply, {
      notice: result.emailToConfirm
        ? `Saved. We sent a link to ${result.emailToConfirm}: your email changes when you open it. Until then we keep using ${result.contact.email}.`
        : 'Saved.',
    });
  });
}
