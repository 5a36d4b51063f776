import { createHash } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Deps } from '../context.ts';
import type { Conn } from '../db/database.ts';
import { randomToken } from '../random.ts';
import * as store from './session.store.ts';

/**
 * Server-side sessions (SPEC 5, 11), kept in the database so several processes agree. The cookie
 * carries a random 256-bit token; the table keeps only its SHA-256. The cookie is `__Host-`
 * prefixed and Secure when PUBLIC_URL is https, always HttpOnly and SameSite=Lax. A session ends
 * after IDLE_MS without a request or ABSOLUTE_MS after it began, whichever comes first, and its id
 * changes (rotation) whenever who is signed in changes: at sign-in and at redemption.
 *
 * A session is created only when there is something to keep (a pending invitation, a sign-in), so
 * a visitor who only reads pages costs no write.
 */
export const IDLE_MS = 30 * 60_000;
export const ABSOLUTE_MS = 12 * 3_600_000;
/** One new session in this many also removes the ended ones. */
const SWEEP_CHANCE = 0.002;
/** last_seen_at is written at most this often (a read-only page view is not a write each time). */
const TOUCH_EVERY_MS = 60_000;

export interface Session extends store.SessionRow {}

/** Portal sessions (contacts) and admin console sessions (users) use different cookies. */
export type SessionKind = 'portal' | 'admin';

export const sessionCookie = (config: Config, kind: SessionKind = 'portal') => {
  const base = kind === 'portal' ? 'admit_session' : 'admit_admin';
  return config.publicUrl.startsWith('https:')
    ? { name: `__Host-${base}`, secure: true }
    : { name: base, secure: false };
};

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The request's live session, or null (no cookie, unknown, idle too long, or past its end). `find`
 * reads the row; a caller may read more with it in the same query (the portal: the contact).
 */
export async function loadSession<T extends store.SessionRow = store.SessionRow>(
  deps: Deps,
  req: FastifyRequest,
  kind: SessionKind = 'portal',
  find: (conn: Conn, id: string) => Promise<T | undefined> = store.findSession as never,
): Promise<T | null> {
  const token = req.cookies[sessionCookie(deps.config, kind).name];
  if (!token || token.length > 64) return null;
  const id = hashOf(token);
  const row = await find(deps.db, id);
  if (!row) return null;
  const now = deps.now().getTime();
  if (Date.parse(row.expiresAt) <= now || Date.parse(row.lastSeenAt) + IDLE_MS <= now) {
    await store.deleteSession(deps.db, id);
    return null;
  }
  if (Date.parse(row.lastSeenAt) + TOUCH_EVERY_MS <= now) {
    row.lastSeenAt = new Date(now).toISOString();
    await store.touchSession(deps.db, id, row.lastSeenAt);
  }
  return row;
}

function setCookie(
  deps: Deps,
  reply: FastifyReply,
  kind: SessionKind,
  token: string,
  expiresAt: string,
): void {
  const { name, secure } = sessionCookie(deps.config, kind);
  reply.setCookie(name, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    expires: new Date(expiresAt),
  });
}

/**
 * Saves the session's new state: creates the session when there is none yet (and sets the cookie),
 * and rotates its id when `rotate` is set. Returns the session as stored.
 */
export async function saveSession(
  deps: Deps,
  reply: FastifyReply,
  current: Session | null,
  next: Pick<Session, 'websiteId' | 'contactId' | 'data'> & { userId?: string | null },
  options: { rotate?: boolean; kind?: SessionKind } = {},
): Promise<Session> {
  const kind = options.kind ?? 'portal';
  const now = deps.now();
  const at = now.toISOString();
  if (!current) {
    const token = randomToken(32);
    const session: Session = {
      id: hashOf(token),
      userId: null,
      ...next,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: new Date(now.getTime() + ABSOLUTE_MS).toISOString(),
    };
    await store.insertSession(deps.db, session);
    setCookie(deps, reply, kind, token, session.expiresAt);
    if (Math.random() < SWEEP_CHANCE) await sweep(deps);
    return session;
  }
  const session: Session = { ...current, ...next, lastSeenAt: at };
  if (options.rotate) {
    const token = randomToken(32);
    await store.updateSession(deps.db, session, hashOf(token));
    setCookie(deps, reply, kind, token, session.expiresAt);
    return { ...session, id: hashOf(token) };
  }
  await store.updateSession(deps.db, session);
  return session;
}

export async function endSession(
  deps: Deps,
  reply: FastifyReply,
  current: Session | null,
  kind: SessionKind = 'portal',
): Promise<void> {
  if (current) await store.deleteSession(deps.db, current.id);
  const { name, secure } = sessionCookie(deps.config, kind);
  reply.clearCookie(name, { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** Removes ended sessions; runs now and then when a session is created. */
async function sweep(deps: Deps): Promise<void> {
  const now = deps.now().getTime();
  await store.deleteExpiredSessions(
    deps.db,
    new Date(now).toISOString(),
    new Date(now - IDLE_MS).toISOString(),
  );
}

export const signOutEverywhere = store.deleteSessionsOfContact;
export const signOutUserEverywhere = store.deleteSessionsOfUser;
