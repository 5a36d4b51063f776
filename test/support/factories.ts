import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { newId } from '../../src/ids.ts';
import { eventually } from './eventually.ts';
import type { Harness } from './harness.ts';

/** Records made through the API with random data, so tests never depend on each other. */
export const rand = (n = 6) => randomBytes(n).toString('hex');

export function ok<T = Record<string, unknown>>(res: LightMyRequestResponse, status = 200): T {
  assert.equal(res.statusCode, status, `expected ${status}, got ${res.statusCode}: ${res.body}`);
  return res.statusCode === 204 ? (undefined as T) : (res.json() as T);
}

/** Asserts a problem+json answer with this status and code; returns the problem. */
export function problem(res: LightMyRequestResponse, status: number, code: string) {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as { code: string; detail: string; errors?: { path: string; message: string }[] };
  assert.equal(body.code, code, res.body);
  assert.ok(body.detail.length > 0);
  return body;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read API answers as loose JSON and assert on them
export type Json = Record<string, any>;

export async function makeWebsite(h: Harness, body: Json = {}): Promise<Json> {
  const slug = `site-${rand()}`;
  return ok(await h.api('POST', '/api/v1/websites', { name: `Portal ${slug}`, slug, ...body }), 201);
}

export async function makeWebRole(h: Harness, websiteId: string, name = `Role ${rand()}`): Promise<Json> {
  return ok(await h.api('POST', `/api/v1/websites/${websiteId}/web-roles`, { name }), 201);
}

export async function makeAccount(h: Harness, name = `Account ${rand()}`): Promise<Json> {
  return ok(await h.api('POST', '/api/v1/accounts', { name }), 201);
}

export async function makeContact(h: Harness, body: Json = {}): Promise<Json> {
  const id = rand();
  return ok(
    await h.api('POST', '/api/v1/contacts', {
      firstName: `Ada${id}`,
      lastName: 'Lovelace',
      email: `ada.${id}@example.test`,
      ...body,
    }),
    201,
  );
}

export async function makeInvitation(h: Harness, body: Json): Promise<Json> {
  return ok(await h.api('POST', '/api/v1/invitations', body), 201);
}

/** A Single invitation for a new contact on a new website, with a role and an account. */
export async function makeSingle(h: Harness, extra: Json = {}) {
  const website = await makeWebsite(h);
  const role = await makeWebRole(h, website.id);
  const account = await makeAccount(h);
  const contact = await makeContact(h);
  const invitation = await makeInvitation(h, {
    type: 'single',
    websiteId: website.id,
    invitedContactIds: [contact.id],
    webRoleIds: [role.id],
    assignToAccountId: account.id,
    ...extra,
  });
  return { website, role, account, contact, invitation };
}

/** A workflow through the API (no steps unless given); returns its id. */
export async function makeWorkflow(h: Harness, body: Json = {}): Promise<string> {
  const w = ok<Json>(
    await h.api('POST', '/api/v1/workflows', { name: `Workflow ${rand()}`, steps: [], ...body }),
    201,
  );
  return w.id;
}

/** A contact who can sign in, with its email confirmed (as if registered earlier). */
export async function makeSignedInContact(h: Harness, body: Json = {}): Promise<Json> {
  const contact = await makeContact(h, { username: `user_${rand()}`, loginEnabled: true, ...body });
  await h.deps.db.updateTable('contacts').set({ email_confirmed: 1 }).where('id', '=', contact.id).execute();
  return { ...contact, emailConfirmed: true };
}

/** Many contacts who can sign in, written in one statement (for the race tests). */
export async function makeSignedInContactsBulk(h: Harness, n: number): Promise<string[]> {
  const at = new Date().toISOString();
  const tag = rand();
  const rows = Array.from({ length: n }, (_, i) => {
    const id = newId();
    return {
      id,
      first_name: `Racer${i}`,
      last_name: tag,
      email: `racer${i}.${tag}@example.test`,
      email_normalized: `racer${i}.${tag}@example.test`,
      username: `racer${i}_${tag}`,
      username_normalized: `racer${i}_${tag}`,
      login_enabled: 1,
      email_confirmed: 1,
      created_at: at,
      updated_at: at,
    };
  });
  await h.deps.db.insertInto('contacts').values(rows).execute();
  return rows.map((r) => r.id);
}

/** A Single invitation for the contact, created and sent in one call (`send: true`). */
export async function inviteAndSend(h: Harness, websiteId: string, contactId: string): Promise<Json> {
  return ok(
    await h.api('POST', '/api/v1/invitations', {
      type: 'single',
      websiteId,
      invitedContactIds: [contactId],
      send: true,
    }),
    201,
  );
}

/** The invitation's first Email once it has reached `status` (delivery is asynchronous). */
export async function emailWhen(h: Harness, invitationId: string, status: string): Promise<Json> {
  return eventually(
    async () => {
      const [first] = ok<Json>(await h.api('GET', `/api/v1/emails?invitationId=${invitationId}`)).items;
      return first?.status === status ? (first as Json) : undefined;
    },
    15_000,
    `an Email ${status}`,
  );
}

/**
 * Makes an invitation expired a second ago, by both clocks a redemption may use (the process's and,
 * on PostgreSQL, the database's; moving the harness clock moves only the first).
 */
export async function expireInvitation(h: Harness, id: string): Promise<void> {
  await h.deps.db
    .updateTable('invitations')
    .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
    .where('id', '=', id)
    .execute();
}
