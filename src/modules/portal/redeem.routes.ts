import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import { AppError, INVALID_CODE_MESSAGE } from '../../errors.ts';
import { checkRateLimit } from '../../http/rate-limit.ts';
import {
  type CodeRef,
  describePending,
  findRedeemableCode,
  invitationTag,
  type PendingInvitation,
  recordRefusal,
  refOfCode,
} from '../invitations/invitation.ts';
import { redeemSignedIn } from './account.service.ts';
import {
  clientOf,
  dataOf,
  field,
  fullName,
  grantNotice,
  keepInSession,
  message,
  pendingRef,
  redeemerOf,
  render,
  returnOf,
  returnQuery,
  signInSession,
} from './portal.context.ts';
import { afterRedemption } from './redirects.ts';
import { registerRoutes } from './register.routes.ts';

/**
 * Landing, Redeem Invitation and the confirmation of a signed-in contact (SPEC 5); registration is
 * register.routes.ts.
 *
 * A GET never redeems, creates or links anything: the landing only remembers which invitation the
 * code names (its keyed hash, not the code) in the session and redirects to the same page without
 * the code, so the code leaves the address bar, the history and any Referer. Every form carries the
 * tag of the invitation it shows; a POST whose session holds another one is refused (`changed`).
 */
export async function redeemRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const pages = redeemPages(deps);

  for (const path of ['/register', '/redeem']) {
    app.get(path, async (req, reply) => {
      if (await pages.landing(req, reply)) return reply;
      if (path === '/register') return registerPage(req, reply);
      pages.requireInvitations(req);
      return pages.redeemForm(req, reply, {});
    });
  }

  app.post('/redeem', async (req, reply) => {
    pages.requireInvitations(req);
    await checkRateLimit(deps, 'redeem', req.ip);
    const code = field(req.body, 'code');
    const existing = field(req.body, 'existing') === 'on';
    if (code === '')
      return pages.redeemForm(req, reply, { existing }, 'Enter the invitation code from your email.');
    const found = await findRedeemableCode(deps, req.portal.website.id, code);
    if ('refused' in found) {
      const { invitationId, reason } = found.refused;
      if (invitationId) await recordRefusal(deps, { invitationId, reason }, pages.actor(req));
      else await checkRateLimit(deps, 'code', req.ip);
      return pages.redeemForm(req, reply, { code, existing }, INVALID_CODE_MESSAGE);
    }
    await keepInSession(deps, req, reply, { pending: found.ref, verified: undefined });
    const { base, contact } = req.portal;
    const rq = returnQuery(returnOf(req));
    if (contact) return reply.redirect(`${base}/redeem/confirm${rq}`, 303);
    return reply.redirect(`${base}/${existing ? 'signin' : 'register'}${rq}`, 303);
  });

  app.get('/redeem/confirm', async (req, reply) => {
    const redeemer = await redeemerOf(deps, req);
    if (!redeemer) return pages.toSignIn(req, reply);
    const ref = pages.pendingOrNull(req);
    if (!ref) return pages.invalidCode(req, reply);
    const found = await pages.describeFor(req, ref, redeemer.id);
    if (!found) return pages.refused(req, reply);
    if (found.contactRefusal) return pages.notForYou(req, reply, found.contactRefusal);
    return render(req, reply, 'confirm-redeem', {
      title: 'Redeem invitation',
      redeemer: { fullName: fullName(redeemer), login: redeemer.username ?? redeemer.email ?? '' },
      tag: invitationTag(ref),
      returnQuery: returnQuery(returnOf(req)),
    });
  });

  app.post('/redeem/confirm', async (req, reply) => {
    await checkRateLimit(deps, 'redeem', req.ip);
    const redeemer = await redeemerOf(deps, req);
    if (!redeemer) return pages.toSignIn(req, reply);
    const ref = pages.pendingOrNull(req);
    if (!ref) return pages.invalidCode(req, reply);
    if (field(req.body, 'invitation') !== invitationTag(ref)) return pages.changed(req, reply);
    const toLink = dataOf(req.portal.session).linkOnRedeem;
    try {
      await redeemSignedIn(
        deps,
        req.portal.website,
        redeemer,
        ref,
        clientOf(req),
        toLink?.contactId === redeemer.id ? toLink.identity : undefined,
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVITATION_NOT_REDEEMABLE')
        return pages.refused(req, reply);
      throw err;
    }
    const { website, base } = req.portal;
    await signInSession(deps, req, reply, redeemer, await grantNotice(deps, website, redeemer.id));
    return reply.redirect(afterRedemption(website, base, redeemer, returnOf(req)), 303);
  });

  const registerPage = await registerRoutes(app, deps, pages);
}

export type RedeemPages = ReturnType<typeof redeemPages>;

/** The pages and checks the redemption routes share (and registration, register.routes.ts). */
export function redeemPages(deps: Deps) {
  const settings = (req: FastifyRequest) => req.portal.website.settings;
  const invitationsOn = (req: FastifyRequest) =>
    settings(req).registrationEnabled && settings(req).invitationEnabled;

  const pages = {
    invitationsOn,

    /** 404 unless registration is on (SPEC 6: off means the redeem and register pages do not exist). */
    requireRegistration(req: FastifyRequest) {
      if (!settings(req).registrationEnabled) throw new AppError('NOT_FOUND', 'registration is off');
    },

    requireInvitations(req: FastifyRequest) {
      if (!invitationsOn(req)) throw new AppError('NOT_FOUND', 'invitations are off');
    },

    /** An anonymous portal visitor (or the signed-in contact) as an audit actor. */
    actor: (req: FastifyRequest) => ({
      type: 'contact' as const,
      id: req.portal.contact?.id ?? null,
      ip: req.ip,
    }),

    /** The session's invitation when invitations are on; null otherwise. */
    pendingOrNull: (req: FastifyRequest): CodeRef | null =>
      invitationsOn(req) ? pendingRef(req.portal.session) : null,

    /**
     * The landing: ?invitation=CODE is remembered and removed from the address. True when it
     * redirected. (It does not return the reply: a reply is thenable, and awaiting it would wait for
     * the response to finish.)
     */
    async landing(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
      pages.requireRegistration(req);
      const q = req.query as Record<string, unknown>;
      if (typeof q.invitation !== 'string') return false;
      if (invitationsOn(req)) {
        // The code's reference is kept without a lookup (one write). The answer is the same 303 for
        // any code, so the landing tells a guesser nothing: a malformed code counts against the
        // limits here, a well-formed one where a page first finds it cannot be redeemed (`refused`).
        const ref = refOfCode(deps, q.invitation);
        if (!ref) await checkRateLimit(deps, 'code', req.ip);
        await keepInSession(deps, req, reply, { pending: ref ?? { invalid: true }, verified: undefined });
      }
      reply.redirect(`${req.url.split('?')[0]}${returnQuery(returnOf(req))}`, 303);
      return true;
    },

    redeemForm: (
      req: FastifyRequest,
      reply: FastifyReply,
      form: { code?: string; existing?: boolean },
      error?: string,
    ) =>
      render(
        req,
        reply,
        'redeem',
        {
          title: 'Redeem invitation',
          form,
          errors: error ? [{ field: 'code', message: error }] : undefined,
          returnQuery: returnQuery(returnOf(req)),
        },
        error ? 422 : 200,
      ),

    invalidCode: (req: FastifyRequest, reply: FastifyReply) =>
      pages.redeemForm(req, reply, {}, INVALID_CODE_MESSAGE),

    /**
     * The session's code turned out not to be redeemable: that counts against the code limits (it
     * may be a guess the landing kept unchecked), the session remembers it, and the page says so.
     */
    async refused(req: FastifyRequest, reply: FastifyReply) {
      await checkRateLimit(deps, 'code', req.ip);
      await keepInSession(deps, req, reply, { pending: { invalid: true }, verified: undefined });
      return pages.invalidCode(req, reply);
    },

    /** The pending invitation, and whether `contactId` may redeem it; null when it cannot be redeemed. */
    async describeFor(
      req: FastifyRequest,
      ref: CodeRef,
      contactId?: string,
    ): Promise<PendingInvitation | null> {
      const asked = contactId ? { contactId, settings: settings(req) } : undefined;
      const d = await describePending(deps, req.portal.website.id, ref, asked);
      return 'pending' in d ? d.pending : null;
    },

    toSignIn: (req: FastifyRequest, reply: FastifyReply) =>
      reply.redirect(`${req.portal.base}/signin${returnQuery(returnOf(req))}`, 303),

    /**
     * A signed-in contact holds an invitation that is not for it: someone else's Single invitation (or
     * a Group one for its invited contacts only), or one it has redeemed already. Never a confirmation
     * that then fails.
     */
    notForYou(req: FastifyRequest, reply: FastifyReply, why: 'not-invited' | 'already-redeemed') {
      const { base, contact } = req.portal;
      if (why === 'already-redeemed')
        return message(
          req,
          reply,
          409,
          'You have already redeemed this invitation',
          ['This invitation has already been redeemed for your account: you have what it gives.'],
          { href: `${base}/profile`, label: 'Go to your profile' },
        );
      return message(
        req,
        reply,
        403,
        'This invitation is for someone else',
        [
          `You are signed in${contact ? ` as ${fullName(contact)}` : ''}, and this invitation was sent to someone else.`,
          'If it was meant for you, sign out and continue: you can then register or sign in with the account it was sent to.',
        ],
        { href: `${base}/`, label: 'Keep me signed in' },
        { action: `${base}/signout`, label: 'Sign out and continue', fields: [['continue', 'invitation']] },
      );
    },

    /** The form showed another invitation than the one the session holds now: nothing was done. */
    changed: (req: FastifyRequest, reply: FastifyReply) =>
      message(
        req,
        reply,
        409,
        'The invitation has changed',
        [
          'This page was opened for another invitation than the one this browser holds now, perhaps because another invitation link was opened in another tab. Nothing was redeemed.',
          'Open the page again to see the invitation it is for now, or open your invitation link again.',
        ],
        { href: `${req.portal.base}/register${returnQuery(returnOf(req))}`, label: 'Show the invitation' },
      ),
  };
  return pages;
}
