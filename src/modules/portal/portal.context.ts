import type {} from '@fastify/csrf-protection';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.ts';
import { type Session, saveSession } from '../../http/session.ts';
import type { ContactRow } from '../contacts/contact.repository.ts';
import type { CodeRef } from '../invitations/invitation.lookup.ts';
import type { Website } from '../websites/website.service.ts';
import { renderView } from './portal.views.ts';

/**
 * What every portal request knows: its website (from the slug), its session (if any) and the
 * signed-in contact (only when the session was signed in on this website: tenant isolation).
 */
export interface PortalContext {
  website: Website;
  /** `/portal/{slug}`: where this website's pages are served. */
  base: string;
  session: Session | null;
  contact: ContactRow | null;
}

/** What the session keeps for the portal. `pending` is the invitation being redeemed. */
export interface PortalSessionData {
  pending?: CodeRef | { invalid: true };
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

/** Signs the contact in on this website: the session id changes (rotation), pending data is kept or replaced. */
export async function signInSession(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  contact: ContactRow,
  data: PortalSessionData,
): Promise<void> {
  const { session, website } = req.portal;
  req.portal.session = await saveSession(
    deps,
    reply,
    session,
    { websiteId: website.id, contactId: contact.id, data: data as Record<string, unknown> },
    { rotate: true },
  );
  req.portal.contact = contact;
}

export interface FormError {
  field?: string;
  message: string;
}

export interface PageLinks {
  signin: boolean;
  redeem: boolean;
  register: boolean;
}

export function linksOf(website: Website): PageLinks {
  const s = website.settings;
  return {
    signin: s.localLoginEnabled,
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
  const html = renderView(view, {
    ...vars,
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

/** A message page (errors, "check your email", …). */
export const message = (
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  lines: string[],
  action?: { href: string; label: string },
) => render(req, reply, 'message', { title, lines, action }, status);

/** A string field of a form body ('' when absent or not a string), trimmed unless `raw`. */
export function field(body: unknown, name: string, raw = false): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof v !== 'string') return '';
  return raw ? v : v.trim();
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
    return `${u.pathname}${u.search}`;
  } catch {
    return null;
  }
}

/** The request's `returnurl` query parameter, when it is safe (see safeReturnUrl). */
export const returnOf = (req: FastifyRequest): string | null =>
  safeReturnUrl((req.query as Record<string, unknown>).returnurl);

/** Who is asking, for redemption records and audit events. */
export const clientOf = (req: FastifyRequest) => ({
  ip: req.ip,
  userAgent: req.headers['user-agent'] ?? null,
});

/** `?returnurl=…` to carry a safe returnurl from page to page, or ''. */
export const returnQuery = (returnUrl: string | null) =>
  returnUrl ? `?returnurl=${encodeURIComponent(returnUrl)}` : '';
