import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import {
  expireInvitation,
  type Json,
  makeContact,
  makeWebsite,
  ok,
  problem,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('contacts who already hold an open invitation', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true });
  });
  after(() => h.close());

  const single = async (websiteId: string, contactId: string, name = `For ${rand()}`) =>
    ok<Json>(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId,
        invitedContactIds: [contactId],
        name,
      }),
      201,
    );
  const check = async (body: Json) => ok<Json>(await h.api('POST', '/api/v1/invitations/bulk/check', body));
  const countOf = async (websiteId: string) =>
    ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${websiteId}&limit=100`)).items.length;

  /** A website where `open` holds an open invitation and the others hold only closed ones or none. */
  const scene = async () => {
    const tag = rand();
    const website = await makeWebsite(h);
    const elsewhere = await makeWebsite(h);
    const contact = (first: string) => makeContact(h, { firstName: `${first}${tag}` });
    const [open, deactivated, expired, redeemed, otherSite, none] = (await Promise.all(
      ['Open', 'Deactivated', 'Expired', 'Redeemed', 'Other', 'None'].map(contact),
    )) as [Json, Json, Json, Json, Json, Json];
    const held = await single(website.id, open.id, `Partners for ${tag}`);
    const off = await single(website.id, deactivated.id);
    ok(await h.api('POST', `/api/v1/invitations/${off.id}/deactivate`), 200);
    await expireInvitation(h, (await single(website.id, expired.id)).id);
    // A Group invitation the contact has redeemed (one of its two places taken, by that contact).
    const group = ok<Json>(
      await h.api('POST', '/api/v1/invitations', {
        type: 'group',
        websiteId: website.id,
        invitedContactIds: [redeemed.id],
        maxRedemptions: 2,
      }),
      201,
    );
    await h.deps.db
      .insertInto('invitation_redeemed_contacts')
      .values({ invitation_id: group.id, contact_id: redeemed.id, redeemed_at: new Date().toISOString() })
      .execute();
    await h.deps.db
      .updateTable('invitations')
      .set({ redemption_count: 1 })
      .where('id', '=', group.id)
      .execute();
    await single(elsewhere.id, otherSite.id);
    return { tag, website, open, held, all: [open, deactivated, expired, redeemed, otherSite, none] };
  };

  it('the check counts and names only open invitations to that website, and changes nothing', async () => {
    const { tag, website, open, held, all } = await scene();
    const before = await countOf(website.id);
    const byIds = await check({ websiteId: website.id, contactIds: all.map((c) => c.id) });
    assert.equal(byIds.total, 6);
    assert.equal(byIds.alreadyInvited, 1);
    assert.deepEqual(
      byIds.examples.map((e: Json) => [e.contactId, e.invitationId, e.name, e.email]),
      [[open.id, held.id, `Partners for ${tag}`, open.email]],
    );
    const bySearch = await check({ websiteId: website.id, matching: { search: tag } });
    assert.deepEqual([bySearch.total, bySearch.alreadyInvited], [6, 1]);
    assert.equal(await countOf(website.id), before);
    problem(
      await h.api('POST', '/api/v1/invitations/bulk/check', { websiteId: website.id }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', '/api/v1/invitations/bulk/check', {
        websiteId: '01936f4e-0000-7000-8000-00000000f00d',
        contactIds: [open.id],
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('bulk invites them again with a warning, or skips them with skipInvited', async () => {
    const { website, open, held, all } = await scene();
    const again = ok<Json>(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        contactIds: all.map((c) => c.id),
      }),
      201,
    );
    assert.deepEqual([again.created, again.skipped, again.alreadyInvited], [6, 0, 1]);
    const warned = again.items.filter((i: Json) => i.openInvitationId);
    assert.deepEqual(
      warned.map((i: Json) => [i.contactId, i.openInvitationId]),
      [[open.id, held.id]],
    );
    // Now each of the six holds an open invitation here; one new contact does not.
    const fresh = await makeContact(h);
    const before = await countOf(website.id);
    const skipped = ok<Json>(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        contactIds: [open.id, fresh.id],
        skipInvited: true,
        send: true,
      }),
      201,
    );
    assert.deepEqual(
      [skipped.created, skipped.queued, skipped.skipped, skipped.alreadyInvited],
      [1, 1, 1, 1],
    );
    const item = skipped.items.find((i: Json) => i.contactId === open.id);
    assert.equal(item.status, 'skipped');
    assert.equal(item.code, 'ALREADY_INVITED');
    const newest = again.items.find((i: Json) => i.contactId === open.id).invitationId;
    assert.equal(item.invitationId, newest, 'the newest open invitation is named');
    assert.equal(await countOf(website.id), before + 1);
  });

  it('a bulk operation reports each skipped contact with its reason', async () => {
    const { tag, website, open, all } = await scene();
    const op = ok<Json>(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        matching: { search: tag },
        skipInvited: true,
      }),
      202,
    );
    const done = await eventually(async () => {
      const o = ok<Json>(await h.api('GET', `/api/v1/operations/${op.id}`));
      return o.status === 'succeeded' && o;
    });
    assert.deepEqual([done.created, done.failed], [all.length - 1, 1]);
    const failures = ok<Json>(await h.api('GET', `/api/v1/operations/${op.id}/failures`)).items;
    assert.deepEqual(
      failures.map((f: Json) => [f.item, f.code]),
      [[open.id, 'ALREADY_INVITED']],
    );
    assert.match(failures[0].detail, /already holds the open invitation/);
  });

  it('creating one invitation warns, or with skipInvited refuses and creates nothing', async () => {
    const { website, open, held } = await scene();
    const before = await countOf(website.id);
    problem(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [open.id],
        skipInvited: true,
      }),
      409,
      'ALREADY_INVITED',
    );
    assert.equal(await countOf(website.id), before);
    const created = await single(website.id, open.id);
    assert.deepEqual(
      created.alreadyInvited.map((o: Json) => [o.contactId, o.invitationId]),
      [[open.id, held.id]],
    );
    const fresh = await makeContact(h);
    const group = ok<Json>(
      await h.api('POST', '/api/v1/invitations', {
        type: 'group',
        websiteId: website.id,
        invitedContactIds: [open.id, fresh.id],
        maxRedemptions: 5,
        skipInvited: true,
      }),
      201,
    );
    assert.deepEqual(group.invitedContactIds, [fresh.id], 'the Group leaves out who holds one');
    assert.deepEqual(
      group.alreadyInvited.map((o: Json) => o.contactId),
      [open.id],
    );
    assert.deepEqual((await single(website.id, (await makeContact(h)).id)).alreadyInvited, []);
  });

  it('simultaneous creations that skip the already invited make one invitation, not one each', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const singles = await Promise.all(
      Array.from({ length: 6 }, () =>
        h.api('POST', '/api/v1/invitations', {
          type: 'single',
          websiteId: website.id,
          invitedContactIds: [contact.id],
          skipInvited: true,
        }),
      ),
    );
    assert.deepEqual(singles.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409]);
    const others = await Promise.all([makeContact(h), makeContact(h)]);
    const bulks = await Promise.all(
      Array.from({ length: 4 }, () =>
        h.api('POST', '/api/v1/invitations/bulk', {
          websiteId: website.id,
          contactIds: others.map((c) => c.id),
          skipInvited: true,
        }),
      ),
    );
    assert.deepEqual(bulks.map((r) => ok<Json>(r, 201).created).sort(), [0, 0, 0, 2]);
    assert.equal(await countOf(website.id), 3, 'one invitation per contact');
  });

  it('invitations are found by an invited contact’s email', async () => {
    const { website, open, held } = await scene();
    const found = ok<Json>(
      await h.api('GET', `/api/v1/invitations?${new URLSearchParams({ search: open.email.toUpperCase() })}`),
    ).items;
    assert.deepEqual(
      found.map((i: Json) => i.id),
      [held.id],
    );
    const byName = ok<Json>(
      await h.api(
        'GET',
        `/api/v1/invitations?${new URLSearchParams({ websiteId: website.id, search: 'Partners for' })}`,
      ),
    ).items;
    assert.deepEqual(
      byName.map((i: Json) => i.id),
      [held.id],
    );
  });
});
