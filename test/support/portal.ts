import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hashPassword } from '../../src/passwords.ts';
import { eventually } from './eventually.ts';
import { type Json, makeContact, ok, rand } from './factories.ts';
import type { Harness } from './harness.ts';
import type { PortalClient } from './portal-client.ts';

export const PASSWORD = 'correct horse battery staple';

/**
 * A contact with `username` and PASSWORD (the password set as registration would), who may sign in on
 * the websites `access` names (given through the API, as an administrator would).
 */
export async function makeMember(
  h: Harness,
  body: Json = {},
  access: string[] = [],
): Promise<Json & { username: string }> {
  const username = `member_${rand()}`;
  const contact = await makeContact(h, { username, loginEnabled: true, ...body });
  await h.deps.db
    .updateTable('contacts')
    .set({ password_hash: await hashPassword(PASSWORD), email_confirmed: 1 })
    .where('id', '=', contact.id)
    .execute();
  for (const websiteId of access)
    ok(await h.api('POST', `/api/v1/contacts/${contact.id}/websites`, { websiteId }), 201);
  return { ...contact, username: contact.username ?? username };
}

/** Lands on the invitation link as the email has it, then follows to the page it shows. */
export async function land(b: PortalClient, slug: string, code: string, returnurl = '%2F') {
  const res = await b.get(
    `/portal/${slug}/register?returnurl=${returnurl}&invitation=${encodeURIComponent(code)}`,
  );
  return b.follow(res);
}

export async function signInAs(b: PortalClient, slug: string, login: string, password = PASSWORD) {
  await b.get(`/portal/${slug}/signin`);
  return b.post(`/portal/${slug}/signin`, { login, password });
}

export const registration = (email: string, username = `user_${rand()}`, password = PASSWORD) => ({
  email,
  username,
  password,
  confirmPassword: password,
});

/** Decodes a quoted-printable body part (soft line breaks and =XX escapes). */
const unQuotedPrintable = (s: string) =>
  s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/** The first link to `{page}?token=` in a message the outbox holds for `to` (waits for delivery). */
export async function outboxLink(h: Harness, to: string, page: string): Promise<string> {
  return (await outboxLinks(h, to, page, 1))[0] as string;
}

/**
 * What `find` finds in the messages the outbox holds for `to` (decoded, in the order they were
 * written), once it finds at least `atLeast`; waits for delivery.
 */
export async function outboxMatches(
  h: Harness,
  to: string,
  find: RegExp,
  atLeast: number,
  what: string,
): Promise<string[]> {
  const dir = path.join(h.deps.config.dataDir, 'outbox');
  return eventually(
    () => {
      let files: string[] = [];
      try {
        files = readdirSync(dir);
      } catch {
        return undefined;
      }
      const found: string[] = [];
      for (const f of files.sort()) {
        const raw = unQuotedPrintable(readFileSync(path.join(dir, f), 'utf8'));
        if (!raw.includes(`To: ${to}`)) continue;
        const m = find.exec(raw);
        if (m) found.push(m[1] ?? m[0]);
      }
      return found.length >= atLeast ? found : undefined;
    },
    15_000,
    `${atLeast} ${what} to ${to}`,
  );
}

/** Every link to `{page}?token=` in messages the outbox holds for `to`, once there are `atLeast`. */
export const outboxLinks = (h: Harness, to: string, page: string, atLeast: number): Promise<string[]> =>
  outboxMatches(
    h,
    to,
    new RegExp(`https?://[^\\s"<>]+/${page}\\?token=[0-9a-f.-]+`),
    atLeast,
    `${page} email(s)`,
  );

/** The portal path of an absolute link in an email (the portal is served at PUBLIC_URL). */
export const pathOf = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

export async function countRows(
  h: Harness,
  table: 'contacts' | 'invite_redemptions' | 'sessions' | 'contact_web_roles',
) {
  const r = await h.deps.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Moves on to the next rate-limit window: the harness clock by `ms`, and on PostgreSQL, whose windows
 * follow the database's clock (which a test cannot move), the counts are cleared as the end of the
 * window would clear them.
 */
export async function nextRateLimitWindow(h: Harness, ms: number): Promise<void> {
  h.advance(ms);
  if (h.dialect === 'postgres') await h.deps.db.deleteFrom('rate_limits').execute();
}
