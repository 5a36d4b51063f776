import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { checkRateLimit } from '../../http/rate-limit.ts';
import { unlinkExternalLogin } from '../contacts/contact.ts';
import {
  type FlowChecks,
  type FlowProvider,
  findFlowProvider,
  finishFlow,
  ProviderUnavailable,
  redirectUriOf,
  SignInRefused,
  startFlow,
} from '../identity/identity.ts';
import { completeExternalSignIn, type ExternalOutcome } from './external.service.ts';
import {
  clientOf,
  dataOf,
  field,
  grantNotice,
  keepInSession,
  message,
  pendingRef,
  render,
  returnOf,
  returnQuery,
  safeReturnUrl,
  signInSession,
  verifyForRedemption,
} from './portal.context.ts';
import { afterRegistration, afterSignIn } from './redirects.ts';

/** A flow not finished within this long is refused at its callback. */
const FLOW_TTL_MS = 10 * 60_000;

/** What the session keeps of a flow between its start and its callback (one flow at a time). */
export interface FlowState extends FlowChecks {
  providerId: string;
  /** Started from the profile: link the provider to the signed-in contact. */
  link: boolean;
  returnUrl: string | null;
  startedAt: number;
}

/**
 * Sign-in with an identity provider (OpenID Connect): "Continue with …" is a form (a POST with the
 * CSRF token, so another site cannot start a flow that would redeem or link in this browser) that
 * remembers the flow's checks in the session and sends the browser on to the provider; the
 * provider sends it back to the one callback, which completes it (external.service.ts). The
 * callback acts only for the session that started the flow, once: its `state` must match, and the
 * flow is forgotten before anything is done.
 */
export async function externalRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const requireExternal = (req: FastifyRequest) => {
    if (!req.portal.website.settings.externalLoginEnabled)
      throw new AppError('NOT_FOUND', 'no external login');
  };

  /**
   * Starts a flow with provider `id`: a page that sends the browser on to the provider (after a
   * form's POST, the page's form-action policy refuses a redirect to another origin), or a page
   * saying why it cannot.
   */
  async function begin(req: FastifyRequest, reply: FastifyReply, id: string, link: boolean) {
    const { website, base } = req.portal;
    let provider: FlowProvider | undefined;
    let started: Awaited<ReturnType<typeof startFlow>>;
    try {
      provider = await findFlowProvider(deps, website.id, id);
      if (!provider) throw new AppError('NOT_FOUND', 'no such provider');
      started = await startFlow(deps, provider, redirectUriOf(website));
    } catch (err) {
      if (!(err instanceof ProviderUnavailable)) throw err;
      req.log.warn({ provider: id, reason: err.message }, 'identity provider unavailable');
      return unavailable(
        req,
        reply,
        provider?.displayName ?? displayNameOf(await req.portal.providers(), id),
      );
    }
    const flow: FlowState = {
      ...started.checks,
      providerId: provider.id,
      link,
      returnUrl: returnOf(req),
      startedAt: deps.now().getTime(),
    };
    await keepInSession(deps, req, reply, { oidc: flow });
    return render(req, reply, 'continue', {
      title: `Continue to ${provider.displayName}`,
      url: started.url,
      provider: provider.displayName,
      link,
      back: link ? `${base}/profile` : `${base}/signin`,
    });
  }

  app.post('/oidc/:providerId/start', async (req, reply) => {
    requireExternal(req);
    await checkRateLimit(deps, 'signin', req.ip);
    const { base } = req.portal;
    if (req.portal.contact) return reply.redirect(`${base}/`, 303);
    return begin(req, reply, (req.params as { providerId: string }).providerId, false);
  });

  app.post('/profile/external-logins', async (req, reply) => {
    requireExternal(req);
    await checkRateLimit(deps, 'profile', req.ip);
    if (!req.portal.contact) return reply.redirect(`${req.portal.base}/signin`, 303);
    return begin(req, reply, field(req.body, 'provider'), true);
  });

  app.post('/profile/external-logins/:loginId/delete', async (req, reply) => {
    await checkRateLimit(deps, 'profile', req.ip);
    const { contact, base } = req.portal;
    if (!contact) return reply.redirect(`${base}/signin`, 303);
    const { website } = req.portal;
    const done = await unlinkExternalLogin(
      deps,
      { type: 'contact', id: contact.id, ip: req.ip },
      contact.id,
      (req.params as { loginId: string }).loginId,
      { id: website.id, localLoginEnabled: website.settings.localLoginEnabled },
    );
    if (done === 'last-way-in')
      return message(
        req,
        reply,
        409,
        'This is your only way to sign in',
        [
          `Without it you could not sign in here any more. Link another provider first${website.settings.localLoginEnabled ? ', or set a password with "Forgot your password?" on the sign-in page' : ''}.`,
        ],
        { href: `${base}/profile`, label: 'Back to your profile' },
      );
    return reply.redirect(`${base}/profile`, 303);
  });

  app.get('/oidc/callback', async (req, reply) => {
    requireExternal(req);
    const { website, base, session } = req.portal;
    const flow = dataOf(session).oidc;
    const query = Object.fromEntries(
      Object.entries(req.query as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    );
    // One use: the flow is forgotten before anything else happens.
    if (flow) await keepInSession(deps, req, reply, { oidc: undefined });
    if (!flow || query.state !== flow.state || deps.now().getTime() - flow.startedAt > FLOW_TTL_MS)
      return notStartedHere(req, reply);
    let provider: FlowProvider | undefined;
    let identity: Awaited<ReturnType<typeof finishFlow>>;
    try {
      provider = await findFlowProvider(deps, website.id, flow.providerId);
      if (!provider) return notStartedHere(req, reply);
      identity = await finishFlow(deps, provider, redirectUriOf(website), query, flow);
    } catch (err) {
      const name = provider?.displayName ?? displayNameOf(await req.portal.providers(), flow.providerId);
      if (err instanceof ProviderUnavailable) {
        req.log.warn({ provider: flow.providerId, reason: err.message }, 'identity provider unavailable');
        return unavailable(req, reply, name);
      }
      if (!(err instanceof SignInRefused)) throw err;
      req.log.warn({ provider: flow.providerId, reason: err.reason }, 'identity provider sign-in refused');
      return notCompleted(req, reply, name, err.kind);
    }
    const linkTo = flow.link ? req.portal.contact : null;
    if (flow.link && !linkTo) return notStartedHere(req, reply);
    const outcome = await completeExternalSignIn(deps, website, identity, {
      linkTo,
      pending: flow.link ? null : pendingRef(session),
      client: clientOf(req),
    });
    if ('linked' in outcome) return reply.redirect(`${base}/profile`, 303);
    if ('confirm' in outcome) {
      // As after a password sign-in: the pending invitation asks to be confirmed (a POST).
      const pending = pendingRef(session) as NonNullable<ReturnType<typeof pendingRef>>;
      const extra = outcome.link
        ? { linkOnRedeem: { contactId: outcome.confirm.id, identity: outcome.link } }
        : {};
      if (outcome.verified) await verifyForRedemption(deps, req, reply, outcome.confirm, pending, extra);
      else await signInSession(deps, req, reply, outcome.confirm, { pending, ...extra });
      return reply.redirect(`${base}/redeem/confirm${returnQuery(safeReturnUrl(flow.returnUrl))}`, 303);
    }
    if ('signedIn' in outcome) {
      // Redeemed here is a registration through the provider (a new identity with the invitation).
      const contact = outcome.signedIn;
      await signInSession(
        deps,
        req,
        reply,
        contact,
        outcome.redeemed ? await grantNotice(deps, website, contact.id) : {},
      );
      const returnUrl = safeReturnUrl(flow.returnUrl);
      return reply.redirect(
        outcome.redeemed
          ? afterRegistration(website, base, contact, returnUrl, true)
          : afterSignIn(website, base, contact, returnUrl),
        303,
      );
    }
    return refusedPage(req, reply, provider.displayName, outcome);
  });
}

const displayNameOf = (providers: { id: string; displayName: string }[], id: string) =>
  providers.find((p) => p.id === id)?.displayName ?? 'this provider';

const notStartedHere = (req: FastifyRequest, reply: FastifyReply) =>
  message(
    req,
    reply,
    400,
    'This sign-in did not start here',
    [
      'The answer from the identity provider does not belong to a sign-in started in this browser, or it came too late or twice. Nothing was linked or redeemed.',
      'Start again from the sign-in page.',
    ],
    { href: `${req.portal.base}/signin${returnQuery(returnOf(req))}`, label: 'Sign in' },
  );

const unavailable = (req: FastifyRequest, reply: FastifyReply, name: string) => {
  reply.header('retry-after', '60');
  return message(
    req,
    reply,
    503,
    `Sign-in with ${name} is unavailable`,
    [
      `${name} cannot be reached right now. Try again in a few minutes${req.portal.website.settings.localLoginEnabled ? ', or sign in with your username and password' : ''}.`,
    ],
    { href: `${req.portal.base}/signin`, label: 'Back to sign in' },
  );
};

const notCompleted = (
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  kind: 'provider-error' | 'invalid',
) =>
  message(
    req,
    reply,
    400,
    `Sign-in with ${name} did not complete`,
    [
      kind === 'provider-error'
        ? `${name} did not sign you in (it may have been cancelled). Nothing was linked or redeemed.`
        : `The answer from ${name} could not be verified, so it was not accepted. Nothing was linked or redeemed.`,
      'Try again, or use another way to sign in.',
    ],
    { href: `${req.portal.base}/signin`, label: 'Back to sign in' },
  );

function refusedPage(
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  outcome: Exclude<ExternalOutcome, { signedIn: unknown } | { linked: true } | { confirm: unknown }>,
) {
  const { base } = req.portal;
  const signIn = { href: `${base}/signin`, label: 'Sign in' };
  if ('mismatch' in outcome) {
    const { invited, provider } = outcome.mismatch;
    return message(
      req,
      reply,
      403,
      'This invitation was sent to another address',
      [
        `This invitation was sent to ${invited ?? 'another address'}, and ${name} ${provider ? `confirmed ${provider} instead` : 'did not confirm an email address'}. Nothing was linked or redeemed.`,
        `Sign in to ${name} with the account of the address the invitation was sent to${req.portal.website.settings.localLoginEnabled ? ', or register with a password instead' : ''}.`,
      ],
      { href: `${base}/register`, label: 'Back to the invitation' },
    );
  }
  if (outcome.refused === 'account-exists' && req.portal.website.existingUserPath)
    return reply.redirect(`${base}${req.portal.website.existingUserPath}`, 303);
  const lines: Record<typeof outcome.refused, string[]> = {
    'no-account': [
      `No account here is linked to this ${name} account. Nothing was linked.`,
      `If you have an account, sign in with it and link ${name} from your profile. If you were invited, open your invitation link first.`,
    ],
    'linked-elsewhere': [
      `This ${name} account is linked to another account here, so it cannot be linked to yours.`,
    ],
    'account-exists': [
      `You already have an account here. Sign in with it, then link ${name} from your profile; the invitation waits for you. Nothing was linked.`,
    ],
    'invited-only': [
      `This invitation is only for the people it was sent to, and ${name} did not confirm one of their addresses. Nothing was linked or redeemed.`,
    ],
    'not-redeemable': [
      "This invitation code isn't valid. It may have expired or already been used. Ask the person who invited you for a new one.",
    ],
  };
  const titles: Record<typeof outcome.refused, string> = {
    'no-account': `No account is linked to this ${name} account`,
    'linked-elsewhere': `This ${name} account belongs to another account`,
    'account-exists': 'You already have an account',
    'invited-only': 'This invitation is for the people it was sent to',
    'not-redeemable': 'This invitation code is not valid',
  };
  const status = outcome.refused === 'not-redeemable' ? 422 : outcome.refused === 'no-account' ? 401 : 409;
  return message(req, reply, status, titles[outcome.refused], lines[outcome.refused], signIn);
}
