import { Writable } from 'node:stream';
import { buildApp } from '../app.ts';
import type { Actor, Deps } from '../context.ts';
import { jobHandlers } from '../jobs/registry.ts';
import { Worker } from '../jobs/worker.ts';
import { redeemInvitation } from '../modules/invitations/invitation.ts';
import { revokeApiKey } from '../modules/users/user.admin.ts';
import { createApiKey, findFirstAdmin } from '../modules/users/user.service.ts';
import { ensureFirstAdmin } from '../modules/users/user.sign-in.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API
type Json = Record<string, any>;

const PEOPLE: [first: string, last: string, account: number | null][] = [
  ['Ada', 'Lovelace', 0],
  ['Grace', 'Hopper', 0],
  ['Katherine', 'Johnson', 1],
  ['Alan', 'Turing', 1],
  ['Margaret', 'Hamilton', 2],
  ['Dorothy', 'Vaughan', 2],
  ['Edsger', 'Dijkstra', null],
  ['Barbara', 'Liskov', 0],
  ['Donald', 'Knuth', 1],
  ['Frances', 'Allen', null],
  ['Hedy', 'Lamarr', 2],
  ['Radia', 'Perlman', null],
];

/**
 * `admit demo`: fills an empty database with what a first look needs (a website with web roles and
 * a role-only page, accounts, contacts, invitations in every status, a redemption workflow with its
 * email) through the API itself, in this process, so every rule holds; then prints where to click.
 * Refuses a database that already holds websites or contacts. Returns the exit code.
 */
export async function fillDemo(deps: Deps, out: (line: string) => void): Promise<number> {
  const count = async (table: 'websites' | 'contacts') =>
    Number(
      (
        await deps.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const [websites, contacts] = [await count('websites'), await count('contacts')];
  if (websites + contacts > 0) {
    process.stderr.write(
      `admit demo fills an empty database; this one has ${websites} websites and ${contacts} contacts. Point DATABASE_URL (or DATA_DIR) at a new database and run it again.\n`,
    );
    return 1;
  }
  // An administrator to act as (its one-time password is printed by the start banner).
  if (!(await findFirstAdmin(deps))) await ensureFirstAdmin(deps);
  const admin = await findFirstAdmin(deps);
  if (!admin) throw new Error('No administrator could be made.');
  const actor: Actor = { type: 'user', id: admin.id, ip: null };
  const { apiKey, secret } = await createApiKey(deps, actor, { userId: admin.id, name: 'admit demo' });
  // Its requests are the demo's own: they are not logged.
  const app = await buildApp(deps, { logStream: new Writable({ write: (_chunk, _enc, done) => done() }) });
  const call = async (method: 'POST' | 'PATCH', url: string, body?: unknown): Promise<Json> => {
    const res = await app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${secret}` },
      ...(body === undefined ? {} : { payload: body as Json }),
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.body ? (res.json() as Json) : {};
  };
  try {
    const website = await call('POST', '/websites', { name: 'Contoso Partners', slug: 'contoso' });
    const partner = await call('POST', `/websites/${website.id}/web-roles`, { name: 'Partner' });
    const reseller = await call('POST', `/websites/${website.id}/web-roles`, { name: 'Reseller' });
    await call('POST', `/websites/${website.id}/web-pages`, {
      path: 'partners/prices',
      title: 'Partner prices',
      content: 'Hello {{ contact.firstName }}, these are the partner prices: 20% off every licence.',
      webRoleIds: [partner.id],
    });
    const accounts: Json[] = [];
    for (const name of ['Contoso Ltd', 'Fabrikam Inc', 'Northwind Traders'])
      accounts.push(await call('POST', '/accounts', { name }));
    const people: Json[] = [];
    for (const [firstName, lastName, account] of PEOPLE)
      people.push(
        await call('POST', '/contacts', {
          firstName,
          lastName,
          email: `${firstName}.${lastName}@example.com`.toLowerCase(),
          ...(account === null ? {} : { parentAccountId: accounts[account]?.id }),
        }),
      );
    const welcome = await call('POST', '/email-templates', {
      name: 'Welcome, partner',
      subject: 'Welcome to {{ website.name }}, {{ contact.firstName }}',
      html: '<p>Hello {{ contact.firstName }},</p><p>You are now a partner on {{ website.name }}.</p>',
      text: 'Hello {{ contact.firstName }},\n\nYou are now a partner on {{ website.name }}.',
    });
    const workflow = await call('POST', '/workflows', {
      name: 'Welcome new partners',
      websiteId: website.id,
      active: true,
      steps: [
        { type: 'add-web-roles', webRoleIds: [reseller.id] },
        { type: 'send-email', templateId: welcome.id },
      ],
    });
    const single = (p: Json, extra: Json = {}) =>
      call('POST', '/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [p.id],
        webRoleIds: [partner.id],
        ...(p.parentAccountId ? {} : { assignToAccountId: accounts[0]?.id }),
        redemptionWorkflowId: workflow.id,
        ...extra,
      });
    const [ada, grace, katherine, alan, margaret, dorothy, edsger, barbara] = people as Json[];
    // New (not sent yet), sent (its email goes out when Admit runs), redeemed, expired, inactive.
    const fresh = await single(ada as Json);
    await single(grace as Json);
    for (const p of [katherine, alan, margaret]) await single(p as Json, { send: true });
    const redeemed = await single(dorothy as Json);
    await call('PATCH', `/contacts/${(dorothy as Json).id}`, {
      username: 'dorothy.vaughan',
      loginEnabled: true,
    });
    await redeemInvitation(deps, {
      websiteId: website.id,
      code: redeemed.code,
      redeemer: { kind: 'contact', contactId: (dorothy as Json).id, method: 'signin' },
      ipAddress: '127.0.0.1',
      userAgent: 'admit demo',
    });
    const expired = await single(edsger as Json);
    await deps.db
      .updateTable('invitations')
      .set({ expires_at: new Date(deps.now().getTime() - 86_400_000).toISOString() })
      .where('id', '=', expired.id)
      .execute();
    const inactive = await single(barbara as Json);
    await call('POST', `/invitations/${inactive.id}/deactivate`);
    await deliver(
      deps,
      [katherine, alan, margaret].map((p) => (p as Json).id),
    );
    const group = await call('POST', '/invitations', {
      type: 'group',
      name: 'Partner summit 2027',
      websiteId: website.id,
      maxRedemptions: 25,
      webRoleIds: [partner.id],
    });

    const url = deps.config.publicUrl;
    out('Demo data is in: the website Contoso Partners, 2 web roles, a role-only page, 3 accounts,');
    out(
      `${people.length} contacts, 9 invitations (new, sent, redeemed, expired, inactive, a Group) and a workflow.`,
    );
    out('');
    out('Start Admit (npm start), then click:');
    out(`  Admin console:  ${url}/admin  (as ${admin.email}; the start banner says how to sign in)`);
    out(`  Invitations:    ${url}/admin#/invitations  (a tab per status)`);
    out(`  A redemption:   ${url}/admin#/invitations/${redeemed.id}`);
    out(`  A contact:      ${url}/admin#/contacts/${(dorothy as Json).id}`);
    out(`  The outbox:     ${url}/admin#/outbox  (the 3 sent invitations)`);
    out(`  The portal:     ${url}/portal/contoso`);
    out(`  Be the invitee: ${fresh.redemptionUrl}`);
    out(`                  (Ada Lovelace's invitation; the Group's code is ${group.code})`);
    return 0;
  } finally {
    await revokeApiKey(deps, actor, apiKey.id);
    await app.close();
  }
}

/** How long the demo waits for its invitation emails to be handed to the mail server or outbox. */
const DELIVERY_WAIT_MS = 30_000;

/**
 * Runs a job worker until the emails of these contacts are handed over (so their invitations are
 * sent, as a running Admit would make them), or DELIVERY_WAIT_MS passes (then a running Admit
 * delivers them later).
 */
async function deliver(deps: Deps, contactIds: string[]): Promise<void> {
  const worker = new Worker(deps, jobHandlers(), { concurrency: 1 });
  worker.start();
  try {
    const until = Date.now() + DELIVERY_WAIT_MS;
    while (Date.now() < until) {
      const pending = await deps.db
        .selectFrom('emails')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('contact_id', 'in', contactIds)
        .where('status', 'not in', ['sent', 'failed'])
        .executeTakeFirstOrThrow();
      if (Number(pending.n) === 0) return;
      worker.nudge();
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await worker.stop();
  }
}
