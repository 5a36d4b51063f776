import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import { AppError, INVALID_CODE_MESSAGE } from '../../errors.ts';
import { checkRateLimit } from '../../http/rate-limit.ts';
import { describePending, findRedeemableCode, refOfCode } from '../invitations/invitation.lookup.ts';
import {
  clientOf,
  dataOf,
  field,
  keepInSession,
  message,
  pendingRef,
  render,
  returnOf,
  returnQuery,
  signInSession,
} from './portal.context.ts';
import { redeemSignedIn, register } from './portal.service.ts';
import { afterSignIn } from './redirects.ts';

/**
 * Landing, Redeem Invitation, registration and the signed-in confirmation (SPEC 5).
 *
 * A GET never redeems, creates or links anything: the landing only remembers which invitation the
 * code names (its id and code version, not the code) in the session and redirects to the same page
 * without the code, so the code leaves the address bar, the history and any Referer.
 */
export async function redeemRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const settings = (req: FastifyRequest) => req.portal.website.settings;
  /** 404 unless registration is on (SPEC 6: off means the redeem and register pages do not exist). */
  const registrationPage = (req: FastifyRequest) => {
    if (!settings(req).registrationEnabled) throw new AppError('NOT_FOUND', 'registration is off');
  };
  const invitationsOn = (req: FastifyRequest) =>
    settings(req).registrationEnabled && settings(req).invitationEnabled;

  /**
   * The landing: ?invitation=CODE is remembered and removed from the address. True when it
   * redirected. (It does not return the reply: a reply is thenable, and awaiting it would wait for
   * the response to finish.)
   */
  const landing = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    registrationPage(req);
    const q = req.query as Record<string, unknown>;
    const path = req.url.split('?')[0] as string;
    if (typeof q.invitation !== 'string') return false;
    if (invitationsOn(req)) {
      // The code's reference is kept without a lookup (one write). The answer is the same 303 for any
      // code, so the landing tells a guesser nothing: a malformed code counts against the limits
      // here, a well-formed one where a page first finds it cannot be redeemed (`refused`).
      const ref = refOfCode(deps, q.invitation);
      if (!ref) await checkRateLimit(deps, 'code', req.ip);
      await keepInSession(deps, req, reply, { pending: ref ?? { invalid: true } });
    }
    reply.redirect(`${path}${returnQuery(returnOf(req))}`, 303);
    return true;
  };

  const registerPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    vars: { errors?: { field?: string; message: string }[]; form?: Record<string, string> } = {},
    status = 200,
  ) => {
    const { website, session, contact, base } = req.portal;
    const returnUrl = returnOf(req);
    const pendingData = dataOf(session).pending;
    if (pendingData && 'invalid' in pendingData) return invalidCode(req, reply);
    const ref = pendingRef(session);
    if (ref && !invitationsOn(req)) return invalidCode(req, reply);
    const pending = ref ? await describePending(deps, website.id, ref) : null;
    if (ref && !pending) return refused(req, reply);
    if (pending && contact) return reply.redirect(`${base}/redeem/confirm${returnQuery(returnUrl)}`, 303);
    if (!pending) {
      const s = website.settings;
      if (!(s.openRegistrationEnabled && s.localLoginEnabled)) {
        if (invitationsOn(req)) return reply.redirect(`${base}/redeem${returnQuery(returnUrl)}`, 303);
        throw new AppError('NOT_FOUND', 'no registration');
      }
    }
    if (!website.settings.localLoginEnabled) throw new AppError('NOT_FOUND', 'no local login');
    return render(
      req,
      reply,
      'register',
      {
        title: pending ? `Accept your invitation to ${website.name}` : `Create your ${website.name} account`,
        invitation: pending,
        byEmail: website.settings.localLoginByEmail,
        form: { email: pending?.invitedEmail ?? '', ...vars.form },
        errors: vars.errors,
        returnQuery: returnQuery(returnUrl),
      },
      status,
    );
  };

  /**
   * The session's code turned out not to be redeemable: that counts against the code limits (it may
   * be a guess the landing kept unchecked), the session remembers it, and the page says so.
   */
  const refused = async (req: FastifyRequest, reply: FastifyReply) => {
    await checkRateLimit(deps, 'code', req.ip);
    await keepInSession(deps, req, reply, { pending: { invalid: true } });
    return invalidCode(req, reply);
  };

  const invalidCode = (req: FastifyRequest, reply: FastifyReply, status = 422) =>
    render(
      req,
      reply,
      'redeem',
      {
        title: 'Redeem invitation',
        errors: [{ field: 'code', message: INVALID_CODE_MESSAGE }],
        form: {},
        returnQuery: returnQuery(returnOf(req)),
      },
      status,
    );

  for (const path of ['/register', '/redeem']) {
    app.get(path, async (req, reply) => {
      if (await landing(req, reply)) return reply;
      if (path === '/register') return registerPage(req, reply);
      if (!invitationsOn(req)) throw new AppError('NOT_FOUND', 'invitations are off');
      return render(req, reply, 'redeem', {
        title: 'Redeem invitation',
        form: {},
        returnQuery: returnQuery(returnOf(req)),
      });
    });
  }

  app.post('/redeem', async (req, reply) => {
    if (!invitationsOn(req)) throw new AppError('NOT_FOUND', 'invitations are off');
    await checkRateLimit(deps, 'redeem', req.ip);
    const { base, website, contact } = req.portal;
    const code = field(req.body, 'code');
    const existing = field(req.body, 'existing') === 'on';
    const rq = returnQuery(returnOf(req));
    if (code === '') {
      return render(
        req,
        reply,
        'redeem',
        {
          title: 'Redeem invitation',
          errors: [{ field: 'code', message: 'Enter the invitation code from your email.' }],
          form: { existing },
          returnQuery: rq,
        },
        422,
      );
    }
    const ref = await findRedeemableCode(deps, website.id, code);
    if (!ref) {
      return render(
        req,
        reply,
        'redeem',
        {
          title: 'Redeem invitation',
          errors: [{ field: 'code', message: INVALID_CODE_MESSAGE }],
          form: { code, existing },
          returnQuery: rq,
        },
        422,
      );
    }
    await keepInSession(deps, req, reply, { pending: ref });
    if (contact) return reply.redirect(`${base}/redeem/confirm${rq}`, 303);
    return reply.redirect(`${base}/${existing ? 'signin' : 'register'}${rq}`, 303);
  });

  app.post('/register', async (req, reply) => {
    registrationPage(req);
    await checkRateLimit(deps, 'register', req.ip);
    const { website, session, base } = req.portal;
    const ref = invitationsOn(req) ? pendingRef(session) : null;
    const form = {
      email: field(req.body, 'email'),
      username: field(req.body, 'username'),
      password: field(req.body, 'password', true),
      confirmPassword: field(req.body, 'confirmPassword', true),
    };
    if (!ref && !(website.settings.openRegistrationEnabled && website.settings.localLoginEnabled))
      return invalidCode(req, reply);
    if (!website.settings.localLoginEnabled) throw new AppError('NOT_FOUND', 'no local login');
    let result: Awaited<ReturnType<typeof register>>;
    try {
      result = await register(deps, website, form, ref, clientOf(req));
    } catch (err) {
      if (err instanceof AppError && err.code === 'ACCOUNT_EXISTS') return accountExists(req, reply);
      if (err instanceof AppError && err.code === 'INVITATION_NOT_REDEEMABLE') return refused(req, reply);
      throw err;
    }
    if ('errors' in result) {
      return registerPage(
        req,
        reply,
        { errors: result.errors, form: { email: form.email, username: form.username } },
        422,
      );
    }
    await signInSession(deps, req, reply, result.contact, {});
    return reply.redirect(afterSignIn(website, base, result.contact, returnOf(req)), 303);
  });

  const accountExists = (req: FastifyRequest, reply: FastifyReply) => {
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
  };

  app.get('/redeem/confirm', async (req, reply) => {
    const { contact, base } = req.portal;
    const rq = returnQuery(returnOf(req));
    if (!contact) return reply.redirect(`${base}/signin${rq}`, 303);
    const ref = invitationsOn(req) ? pendingRef(req.portal.session) : null;
    if (!ref) return invalidCode(req, reply);
    if (!(await describePending(deps, req.portal.website.id, ref))) return refused(req, reply);
    return render(req, reply, 'confirm-redeem', { title: 'Redeem invitation', returnQuery: rq });
  });

  app.post('/redeem/confirm', async (req, reply) => {
    const { contact, base, website } = req.portal;
    const rq = returnQuery(returnOf(req));
    if (!contact) return reply.redirect(`${base}/signin${rq}`, 303);
    // Rate-limited only when it fails: it carries no code, only the session's reference to one,
    // and a refused reference counts (`refused`) as on every page that finds one.
    // No separate check first: redeemInvitation decides everything.
    const ref = invitationsOn(req) ? pendingRef(req.portal.session) : null;
    if (!ref) return invalidCode(req, reply);
    try {
      await redeemSignedIn(deps, website, contact, ref, clientOf(req));
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVITATION_NOT_REDEEMABLE') return refused(req, reply);
      throw err;
    }
    await signInSession(deps, req, reply, contact, {});
    return reply.redirect(afterSignIn(website, base, contact, returnOf(req)), 303);
  });
}
