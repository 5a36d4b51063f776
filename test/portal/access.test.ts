import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { migrateToLatest, migrator } from '../../src/db/migrate.ts';
import { type Json, makeSingle, makeWebsite, ok, problem, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { land, makeMember, PASSWORD, registration, signInAs } from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

onBothDatabases('portal access per website', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true, env: { ADMIT_RATE_LIMIT_PER_IP: '100000' } });
  });
  after(() => h.close());

  const accessOf = async (contactId: string) =>
    ok<{ items: Json[] }>(await h.api('GET', `/api/v1/contacts/${contactId}/websites`)).items;
  const auditOf = async (contactId: string) =>
    ok<{ items: Json[] }>(await h.api('GET', `/api/v1/audit-events?entityType=contact&entityId=${contactId}`))
      .items;
  /** The page a failed sign-in shows, without what differs from one attempt to the next. */
  const failure = (html: string, login: string) => textOf(html).replace(login, '');

  it('a contact registered openly on one website signs in nowhere else, and reads none of its pages', async () => {
    const open = await makeWebsite(h, { settings: { openRegistrationEnabled: true } });
    const closed = await makeWebsite(h);
    ok(
      await h.api('POST', `/api/v1/websites/${closed.id}/web-pages`, {
        path: 'members',
        title: 'Members',
        content: '<p>For members of {{ website.name }}</p>',
      }),
      201,
    );
    const b = new PortalClient(h);
    await b.get(`/portal/${open.slug}/register`);
    const username = `open_${rand()}`;
    const registered = await b.post(
      `/portal/${open.slug}/register`,
      registration(`open.${rand()}@example.test`, username),
    );
    assert.equal(registered.statusCode, 303);
    const [contactId] = (
      await h.deps.db.selectFrom('contacts').select('id').where('username', '=', username).execute()
    ).map((r) => r.id);
    assert.deepEqual(
      (await accessOf(contactId as string)).map((a) => [a.websiteId, a.source]),
      [[open.id, 'registration']],
    );

    // The credentials fail on the other website exactly like wrong ones.
    const c = new PortalClient(h);
    const elsewhere = await signInAs(c, closed.slug, username);
    assert.equal(elsewhere.statusCode, 401);
    const wrong = await signInAs(new PortalClient(h), closed.slug, username, 'not the password');
    assert.equal(failure(elsewhere.body, username), failure(wrong.body, username));
    assert.equal((await c.get(`/portal/${closed.slug}/p/members`)).statusCode, 303, 'to sign in');
    // A session of the first website is not a session of the second.
    const members = await b.get(`/portal/${closed.slug}/p/members`);
    assert.equal(members.statusCode, 303);
    assert.equal((await b.get(`/portal/${closed.slug}/profile`)).statusCode, 303);
    assert.equal((await b.get(`/portal/${open.slug}/profile`)).statusCode, 200, 'still signed in there');

    // An administrator gives access (audited): then it works; removing it ends the sessions there.
    const given = ok<Json>(
      await h.api('POST', `/api/v1/contacts/${contactId}/websites`, { websiteId: closed.id }),
      201,
    );
    assert.deepEqual([given.websiteId, given.source], [closed.id, 'admin']);
    const d = new PortalClient(h);
    assert.equal((await signInAs(d, closed.slug, username)).statusCode, 303);
    assert.match(textOf((await d.get(`/portal/${closed.slug}/p/members`)).body), /For members of/);
    ok(await h.api('DELETE', `/api/v1/contacts/${contactId}/websites/${closed.id}`), 204);
    assert.equal((await d.get(`/portal/${closed.slug}/p/members`)).statusCode, 303, 'signed out there');
    assert.equal((await signInAs(new PortalClient(h), closed.slug, username)).statusCode, 401);
    assert.equal(
      (await b.get(`/portal/${open.slug}/profile`)).statusCode,
      200,
      'the other website is untouched',
    );
    const actions = (await auditOf(contactId as string)).map((e) => [
      e.action,
      e.actor.type,
      e.data.websiteId,
    ]);
    assert.deepEqual(
      actions.filter(([a]) => String(a).startsWith('contact.website_access')),
      [
        ['contact.website_access_removed', 'user', closed.id],
        ['contact.website_access_granted', 'user', closed.id],
      ],
    );

    problem(
      await h.api('POST', `/api/v1/contacts/${contactId}/websites`, { websiteId: contactId }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', `/api/v1/contacts/${closed.id}/websites`, { websiteId: closed.id }),
      404,
      'NOT_FOUND',
    );
    problem(await h.api('DELETE', `/api/v1/contacts/${contactId}/websites/${closed.id}`), 404, 'NOT_FOUND');
    problem(
      await h.api('POST', `/api/v1/contacts/${contactId}/websites`, { websiteId: closed.id, extra: 1 }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('signing in on a website anyone may register on gives access, as registering there would', async () => {
    const home = await makeWebsite(h);
    const open = await makeWebsite(h, { settings: { openRegistrationEnabled: true } });
    const member = await makeMember(h, {}, [home.id]);
    assert.equal((await signInAs(new PortalClient(h), open.slug, member.username)).statusCode, 303);
    assert.deepEqual(
      (await accessOf(member.id)).map((a) => [a.websiteId, a.source]),
      [
        [home.id, 'admin'],
        [open.id, 'registration'],
      ],
    );
  });

  it('redeeming gives access to the invitation’s website only; an existing contact is verified for the redemption alone', async () => {
    const { website, invitation, contact } = await makeSingle(h);
    const other = await makeWebsite(h);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    const username = `inv_${rand()}`;
    assert.equal(
      (await b.post(`/portal/${website.slug}/register`, registration(contact.email, username))).statusCode,
      303,
    );
    assert.deepEqual(
      (await accessOf(contact.id)).map((a) => [a.websiteId, a.source]),
      [[website.id, 'redemption']],
    );
    assert.equal((await signInAs(new PortalClient(h), other.slug, username)).statusCode, 401);

    // That contact is invited to the other website too: its credentials verify it for this
    // redemption, and nothing else of that website is open until it is confirmed.
    const second = ok<Json>(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: other.id,
        invitedContactIds: [contact.id],
      }),
      201,
    );
    const c = new PortalClient(h);
    await land(c, other.slug, second.code);
    const signedIn = await signInAs(c, other.slug, username);
    assert.equal(signedIn.headers.location, `/portal/${other.slug}/redeem/confirm`);
    const confirm = await c.follow(signedIn);
    assert.match(textOf(confirm.body), /Redeem this invitation for/);
    assert.equal((await c.get(`/portal/${other.slug}/profile`)).statusCode, 303, 'not signed in yet');
    await c.get(`/portal/${other.slug}/redeem/confirm`);
    const confirmed = await c.post(`/portal/${other.slug}/redeem/confirm`, {});
    assert.equal(confirmed.statusCode, 303);
    const landed = await c.follow(confirmed);
    assert.match(textOf(landed.body), new RegExp(`Your invitation to ${other.name} is accepted\\.`));
    assert.equal((await c.get(`/portal/${other.slug}/profile`)).statusCode, 200, 'signed in after it');
    assert.deepEqual(
      (await accessOf(contact.id)).map((a) => a.websiteId).sort(),
      [website.id, other.id].sort(),
    );
    // The first website's password works on both now; the contact's credentials are one.
    assert.equal((await signInAs(new PortalClient(h), other.slug, username, PASSWORD)).statusCode, 303);
  });

  it('a reset link is sent only on a website where the contact may sign in', async () => {
    const home = await makeWebsite(h);
    const other = await makeWebsite(h);
    const member = await makeMember(h, {}, [home.id]);
    const count = async () =>
      Number(
        (
          await h.deps.db
            .selectFrom('emails')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('contact_id', '=', member.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const b = new PortalClient(h);
    await b.get(`/portal/${other.slug}/forgot-password`);
    assert.match(
      textOf((await b.post(`/portal/${other.slug}/forgot-password`, { email: member.email })).body),
      /Check your email/,
    );
    assert.equal(await count(), before, 'nothing sent for a website it cannot sign in to');
    await b.get(`/portal/${home.slug}/forgot-password`);
    await b.post(`/portal/${home.slug}/forgot-password`, { email: member.email });
    assert.equal(await count(), before + 1);
  });
});

onBothDatabases('portal access: the migration that introduced it', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('gives existing contacts access where they redeemed an invitation or hold web roles, and nowhere else', async () => {
    const { website, invitation, contact: redeemer } = await makeSingle(h);
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    await b.post(`/portal/${website.slug}/register`, registration(redeemer.email));
    const other = await makeWebsite(h);
    const role = ok<Json>(
      await h.api('POST', `/api/v1/websites/${other.id}/web-roles`, { name: 'Partner' }),
      201,
    );
    const holder = await makeMember(h, { webRoleIds: [role.id] });
    const nobody = await makeMember(h);

    // Back to the schema before the migration (its down drops the table), then forward again.
    const { error } = await migrator(h.deps.db).migrateTo('2026-11-30T0400_cheaper_send_updates');
    assert.ifError(error);
    await migrateToLatest(h.deps.db);

    const rows = await h.deps.db
      .selectFrom('website_access')
      .select(['contact_id', 'website_id', 'source'])
      .where('contact_id', 'in', [redeemer.id, holder.id, nobody.id])
      .execute();
    const byContact = (id: string) =>
      rows.filter((r) => r.contact_id === id).map((r) => [r.website_id, r.source]);
    assert.deepEqual(byContact(redeemer.id), [[website.id, 'redemption']]);
    assert.deepEqual(byContact(holder.id), [[other.id, 'admin']]);
    assert.deepEqual(byContact(nobody.id), []);
  });
});
