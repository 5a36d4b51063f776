import type {} from '@fastify/csrf-protection';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import { isEmailAddress } from '../../email-address.ts';
import { type Session, saveSession, sessionCookie } from '../../http/session.ts';
import { randomToken } from '../../random.ts';
import { type Contact, findContact } from '../contacts/contact.ts';
import { type CodeRef, type ExternalIdentity, latestGrant } from '../invitations/invitation.ts';
import type { Website } from '../websites/website.ts';
import type { FlowState } from './external.routes.ts';
import { renderView } from './portal.views.ts';
import { grantedLine } from './redirects.ts';

/**
 * What every portal request knows: its website (from the slug), its session (if any) and the
 * signed-in contact (only when the session was signed in on this website: tenant isolation).
 */
export interface PortalContext {
  website: Website;
  /** `/portal/{slug}`: where this website's pages are served. */
  base: string;
  session: Session | null;
  contact: Contact | null;
  /** The session's one-time `granted` line, taken from it for the page being rendered (takeNotice). */
  takeNotice: () => Promise<string | undefined>;
  /** The website's enabled identity providers, for the "Continue with …" buttons (read when asked). */
  providers: () => Promise<PortalProvider[]>;
}

export interface PortalProvider {
  id: string;
  displayName: string;
  buttonLabel: string;
}

/** The views that offer the identity providers' buttons, to visitors (not signed in). */
const PROVIDER_VIEWS = new Set(['signin', 'register', 'redeem', 'home']);

/** What the session keeps for the portal. */
export interface PortalSessionData {
  /** The invitation being redeemed (its code's reference), or a code found not to be redeemable. */
  pending?: CodeRef | { invalid: true };
  /**
   * A contact who proved its credentials to redeem the pending invitation on a website where it has
   * no access yet: it may confirm that redemption (with this code), and nothing else.
   */
  verified?: { contactId: string; codeHash: string };
  /** An identity provider's flow under way (external.routes.ts). */
  oidc?: FlowState;
  /**
   * A provider's identity that proved the verified contact's inbox: the confirmed redemption links
   * it to that contact (external.routes.ts, redeem.routes.ts).
   */
  linkOnRedeem?: { contactId: string; identity: ExternalIdentity };
  /** What the redemption just granted, said once on the next page shown (grantNotice). */
  granted?: string;
}

/** The session data that says, once, what the contact's newest redemption on this website granted. */
export async function grantNotice(
  deps: Deps,
  website: Website,
  contactId: string,
): Promise<Pick<PortalSessionData, 'granted'>> {
  const grant = await latestGrant(deps, contactId, website.id);
  return grant ? { granted: grantedLine(website.name, grant) } : {};
}

/**
 * The session's one-time `granted` line, for the page being rendered (so a redirect on the way does
 * not spend it), removed from the session so it is said once; undefined when there is none.
 */
export async function takeNotice(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<string | undefined> {
  const granted = dataOf(req.portal.session).granted;
  if (!granted || !req.portal.contact) return undefined;
  const { granted: _said, ...rest } = dataOf(req.portal.session);
  const { session, website, contact } = req.portal;
  req.portal.session = await saveSession(deps, reply, session, {
    websiteId: website.id,
    contactId: contact.id,
    data: rest as Record<string, unknown>,
  });
  return granted;
}

/** Who is asking, for redemption records and audit events. */
export interface Client {
  ip: string;
  userAgent: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    portal: PortalContext;
  }
}

export const dataOf = (s: Session | null): PortalSessionData => (s?.data ?? {}) as PortalSessionData;

export const pendingRef = (s: Session | null): CodeRef | null => {
  const p = dataOf(s).pending;
  return p && 'codeHash' in p ? p : null;
};

/**
 * Who may confirm the pending redemption: the signed-in contact, or the contact verified for this
 * very invitation (`verified`) on a website where it has no access yet; null for anyone else.
 */
export async function redeemerOf(deps: Deps, req: FastifyRequest): Promise<Contact | null> {
  if (req.portal.contact) return req.portal.contact;
  const verified = dataOf(req.portal.session).verified;
  const ref = pendingRef(req.portal.session);
  if (!verified || !ref || verified.codeHash !== ref.codeHash) return null;
  // The session names the contact: a session deleted by a password reset is gone with it.
  if (req.portal.session?.contactId !== verified.contactId) return null;
  const contact = await findContact(deps.db, verified.contactId);
  return contact?.loginEnabled ? contact : null;
}

/** Saves the portal's session data (creating the session if needed), keeping who is signed in. */
export async function keepInSession(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  data: PortalSessionData,
): Promise<void> {
  const { session, website, contact } = req.portal;
  req.portal.session = await saveSession(deps, reply, session, {
    websiteId: website.id,
    contactId: contact?.id ?? null,
    data: { ...dataOf(session), ...data },
  });
}

/**
 * Signs the contact in on this website: the session id and the CSRF secret change (rotation), and
 * the session data is replaced.
 */
export async function signInSession(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  contact: Contact,
  data: PortalSessionData,
): Promise<void> {
  await rotatedSession(deps, req, reply, contact.id, data);
  req.portal.contact = contact;
}

/**
 * The contact proved its credentials for the pending invitation on a website where it has no
 * access: the session is rotated and names the contact (so signing it out everywhere, a password
 * reset, or removing access ends it too), but it is signed in nowhere; only the confirmation of
 * that redemption accepts it (redeemerOf).
 */
export async function verifyForRedemption(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  contact: Contact,
  pending: CodeRef,
  extra: Pick<PortalSessionData, 'linkOnRedeem'> = {},
): Promise<void> {
  await rotatedSession(deps, req, reply, contact.id, {
    ...extra,
    pending,
    verified: { contactId: contact.id, codeHash: pending.codeHash },
  });
  req.portal.contact = null;
}

async function rotatedSession(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  contactId: string,
  data: PortalSessionData,
): Promise<void> {
  const { session, website } = req.portal;
  req.portal.session = await saveSession(
    deps,
    reply,
    session,
    { websiteId: website.id, contactId, data: data as Record<string, unknown> },
    { rotate: true },
  );
  rotateCsrfSecret(deps, req, reply);
}

/**
 * A new CSRF secret (the cookie @fastify/csrf-protection keeps it in): forms rendered before a
 * sign-in or a redemption stop working after it, so a token learned before cannot be used after.
 */
export function rotateCsrfSecret(deps: Deps, req: FastifyRequest, reply: FastifyReply): void {
  const { name, options } = csrfCookie(deps);
  const secret = randomToken(18);
  req.cookies[name] = secret;
  reply.setCookie(name, secret, options);
}

/** The CSRF secret's cookie: its name and attributes (`__Host-` and Secure over https). */
export function csrfCookie(deps: Deps) {
  const secure = sessionCookie(deps.config).secure;
  return {
    name: secure ? '__Host-admit_csrf' : 'admit_csrf',
    options: { path: '/', sameSite: 'lax' as const, httpOnly: true, secure, signed: false },
  };
}

export interface FormError {
  field?: string;
  message: string;
}

/**
 * What is wrong with an email typed into a form, in words; null when nothing is. Control characters
 * and the invisible and text-direction ones are refused: an address must look like what it is.
 */
export function emailProblem(email: string): string | null {
  if (email === '') return 'Enter your email address.';
  if (!isEmailAddress(email)) return 'Enter an email address like name@example.com.';
  return null;
}

export interface PageLinks {
  signin: boolean;
  redeem: boolean;
  register: boolean;
}

export function linksOf(website: Website): PageLinks {
  const s = website.settings;
  return {
    signin: s.localLoginEnabled || s.externalLoginEnabled,
    redeem: s.registrationEnabled && s.invitationEnabled,
    register: s.registrationEnabled && s.openRegistrationEnabled && s.localLoginEnabled,
  };
}

/** Renders a view in the layout: the website, the signed-in contact, the CSRF token, errors. */
export async function render(
  req: FastifyRequest,
  reply: FastifyReply,
  view: string,
  vars: Record<string, unknown> & { title: string; errors?: FormError[] },
  status = 200,
) {
  const { website, base, contact } = req.portal;
  const errors = vars.errors ?? [];
  const fieldErrors = Object.fromEntries(errors.filter((e) => e.field).map((e) => [e.field, e.message]));
  const offers = PROVIDER_VIEWS.has(view) && website.settings.externalLoginEnabled && !contact;
  const html = renderView(view, {
    providers: offers ? await req.portal.providers() : [],
    localLogin: website.settings.localLoginEnabled,
    ...vars,
    notice: vars.notice ?? (await req.portal.takeNotice()),
    errors,
    fieldErrors,
    website: { name: website.name, slug: website.slug },
    base,
    links: linksOf(website),
    csrf: reply.generateCsrf(),
    contact: contact && {
      fullName: fullName(contact),
      login: contact.username ?? contact.email ?? '',
      email: contact.email ?? '',
      emailConfirmed: contact.emailConfirmed,
      username: contact.username,
    },
  });
  return reply.status(status).type('text/html; charset=utf-8').send(html);
}

export const fullName = (c: { firstName: string; lastName: string; email?: string | null }) =>
  `${c.firstName} ${c.lastName}`.trim() || c.email || 'you';

/**
 * A message page (errors, "check your email", …), with a link (`action`) and/or a button that posts
 * a form (`post`: its path, label and hidden fields).
 */
export const message = (
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  lines: string[],
  action?: { href: string; label: string },
  post?: { action: string; label: string; fields?: [string, string][] },
) => render(req, reply, 'message', { title, lines, action, post }, status);

/** A string field of a form body ('' when absent or not a string), trimmed unless `raw`. */
export function field(body: unknown, name: string, raw = false): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof v !== 'string') return '';
  return raw ? v : v.trim();
}

/** The `token` of a link's query or form (at most 200 characters), or ''. */
export function tokenOf(from: unknown): string {
  const t = (from as Record<string, unknown> | undefined)?.token;
  return typeof t === 'string' ? t.slice(0, 200) : '';
}

/**
 * `returnurl` as a path inside this website's portal, or null: only same-origin relative paths
 * ("/…", not "//…" or "/\…"), without schemes, control characters or backslashes, after decoding.
 */
export function safeReturnUrl(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 500) return null;
  let decoded = raw;
  for (let i = 0; i < 3; i++) {
    try {
      const next = decodeURIComponent(decoded);
      if (next === decoded) break;
      decoded = next;
    } catch {
      return null;
    }
  }
  for (const v of [raw, decoded]) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (!v.startsWith('/') || v.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(v) || /^\/[^/]*:/.test(v))
      return null;
  }
  try {
    const u = new URL(raw, 'http://portal.invalid');
    if (u.origin !== 'http://portal.invalid') return null;
    const path = `${u.pathname}${u.search}`;
    // Dot segments resolved ("/..//evil.test") must not leave a protocol-relative URL.
    return path.startsWith('//') ? null : path;
  } catch {
    return null;
  }
}

/** The request's `returnurl` query parameter, when it is safe (see safeReturnUrl). */
export const returnOf = (req: FastifyRequest): string | null =>
  safeReturnUrl((req.query as Record<string, unknown>).returnurl);

export const clientOf = (req: FastifyRequest): Client => ({
  ip: req.ip,
  userAgent: req.headers['user-agent'] ?? null,
});

/** `?returnurl=…` to carry a safe returnurl from page to page, or ''. */
export const returnQuery = (returnUrl: string | null) =>
  returnUrl ? `?returnurl=${encodeURIComponent(returnUrl)}` : '';
