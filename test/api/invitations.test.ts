import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import {
  type Json,
  makeAccount,
  makeContact,
  makeInvitation,
  makeSignedInContact,
  makeSingle,
  makeWebRole,
  makeWebsite,
  makeWorkflow,
  ok,
  problem,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const DAY = 86_400_000;
const missing = '01936f4e-0000-7000-8000-00000000dead';

onBothDatabases('invitations API', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const signIn = (websiteId: string, code: string, contactId: string) =>
    redeemInvitation(h.deps, {
      websiteId,
      code,
      redeemer: { kind: 'contact', contactId, method: 'signin' },
      ipAddress: '203.0.113.9',
      userAgent: 'test',
    });

  it('creates a Single invitation with its code, URL, defaults and audit event', async () => {
    const { website, role, account, contact, invitation } = await makeSingle(h);
    assert.equal(invitation.type, 'single');
    assert.equal(invitation.name, `${contact.firstName} ${contact.lastName}`);
    assert.equal(invitation.maxRedemptions, 1);
    assert.equal(invitation.status, 'new');
    assert.equal(invitation.statusReason, 'new');
    assert.equal(invitation.state, 'active');
    assert.deepEqual(invitation.invitedContactIds, [contact.id]);
    assert.deepEqual(invitation.webRoleIds, [role.id]);
    assert.equal(invitation.assignToAccountId, account.id);
    assert.equal(invitation.ownerId.length, 36, 'owner defaults to the caller');
    assert.match(invitation.code, /^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$/);
    assert.equal(
      invitation.redemptionUrl,
      `${website.baseUrl}/register?returnurl=%2F&invitation=${invitation.code}`,
    );
    const expiresIn = Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt);
    assert.equal(expiresIn, 14 * DAY);
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${invitation.id}`),
    );
    assert.deepEqual(
      audit.items.map((e: Json) => e.action),
      ['invitation.created'],
    );
    assert.equal(audit.items[0].actor.type, 'user');
  });

  it('creates Group invitations with any number of invited contacts', async () => {
    const website = await makeWebsite(h);
    const a = await makeContact(h);
    const b = await makeContact(h);
    const group = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      invitedContactIds: [a.id, b.id],
      maxRedemptions: 5,
    });
    assert.equal(group.name, 'Group invitation');
    assert.deepEqual([...group.invitedContactIds].sort(), [a.id, b.id].sort());
    const open = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 100,
      name: 'Launch event',
    });
    assert.deepEqual(open.invitedContactIds, []);
    problem(
      await h.api('POST', '/api/v1/invitations', { type: 'group', websiteId: website.id }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', '/api/v1/invitations', { type: 'group', websiteId: website.id, maxRedemptions: 0 }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('enforces the Single shape', async () => {
    const website = await makeWebsite(h);
    const a = await makeContact(h);
    const b = await makeContact(h);
    for (const body of [
      { invitedContactIds: [] },
      { invitedContactIds: [a.id, b.id] },
      { invitedContactIds: [a.id], maxRedemptions: 3 },
    ]) {
      problem(
        await h.api('POST', '/api/v1/invitations', { type: 'single', websiteId: website.id, ...body }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it('requires every referenced record to exist and web roles of the same website', async () => {
    const website = await makeWebsite(h);
    const other = await makeWebsite(h);
    const foreignRole = await makeWebRole(h, other.id);
    const c = await makeContact(h);
    const cases: [Json, string][] = [
      [{ websiteId: missing }, '/websiteId'],
      [{ invitedContactIds: [missing] }, '/invitedContactIds/0'],
      [{ ownerId: missing }, '/ownerId'],
      [{ inviterContactId: missing }, '/inviterContactId'],
      [{ assignToAccountId: missing }, '/assignToAccountId'],
      [{ redemptionWorkflowId: missing }, '/redemptionWorkflowId'],
      [{ webRoleIds: [missing] }, '/webRoleIds/0'],
      [{ webRoleIds: [foreignRole.id] }, '/webRoleIds/0'],
    ];
    for (const [patch, path] of cases) {
      const res = problem(
        await h.api('POST', '/api/v1/invitations', {
          type: 'single',
          websiteId: website.id,
          invitedContactIds: [c.id],
          ...patch,
        }),
        400,
        'VALIDATION_FAILED',
      );
      assert.ok(
        res.errors?.some((e) => e.path === path),
        `${path} in ${JSON.stringify(res.errors)}`,
      );
    }
    const listed = ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}`));
    assert.equal(listed.items.length, 0, 'nothing was created');
  });

  it('accepts every optional reference that exists', async () => {
    const website = await makeWebsite(h);
    const inviter = await makeContact(h);
    const c = await makeContact(h);
    const workflowId = await makeWorkflow(h);
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [c.id],
      inviterContactId: inviter.id,
      redemptionWorkflowId: workflowId,
      name: 'Welcome Ada',
    });
    assert.equal(inv.inviterContactId, inviter.id);
    assert.equal(inv.redemptionWorkflowId, workflowId);
    assert.equal(inv.name, 'Welcome Ada');
  });

  it('expires at an exact instant: default lifetime, explicit, never only where allowed', async () => {
    const website = await makeWebsite(h, { settings: { defaultInvitationLifetimeDays: 3 } });
    const c = await makeContact(h);
    const body = { type: 'single', websiteId: website.id, invitedContactIds: [c.id] };
    const dflt = await makeInvitation(h, body);
    assert.equal(Date.parse(dflt.expiresAt) - Date.parse(dflt.createdAt), 3 * DAY);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await makeInvitation(h, { ...body, expiresAt: at })).expiresAt, at);
    problem(
      await h.api('POST', '/api/v1/invitations', { ...body, expiresAt: null }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', '/api/v1/invitations', {
        ...body,
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', '/api/v1/invitations', { ...body, expiresAt: '2030-01-01' }),
      400,
      'VALIDATION_FAILED',
    );
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, {
        settings: { allowNonExpiringInvitations: true },
      }),
    );
    assert.equal((await makeInvitation(h, { ...body, expiresAt: null })).expiresAt, null);
  });

  it('derives expiry on read, with no sweeper, and lists it under Expired', async () => {
    const { website, invitation } = await makeSingle(h, {
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}`)).status, 'new');
    h.advance(61_000);
    try {
      assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}`)).status, 'expired');
      const expired = ok<Json>(
        await h.api('GET', `/api/v1/invitations?status=expired&websiteId=${website.id}`),
      );
      assert.deepEqual(
        expired.items.map((i: Json) => i.id),
        [invitation.id],
      );
      const fresh = ok<Json>(await h.api('GET', `/api/v1/invitations?status=new&websiteId=${website.id}`));
      assert.equal(fresh.items.length, 0);
    } finally {
      h.advance(-61_000);
    }
  });

  it('lists by status, website, contact and name', async () => {
    const website = await makeWebsite(h);
    const signedIn = await makeSignedInContact(h);
    const inactiveOne = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [(await makeContact(h)).id],
      name: 'Zebra',
    });
    const redeemedOne = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [signedIn.id],
    });
    const newOne = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 3,
      name: 'Zebra crossing',
    });
    ok(await h.api('POST', `/api/v1/invitations/${inactiveOne.id}/deactivate`));
    await signIn(website.id, redeemedOne.code, signedIn.id);
    const ids = async (q: string) =>
      ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}&${q}`)).items.map(
        (i: Json) => i.id,
      );
    assert.deepEqual(await ids('status=inactive'), [inactiveOne.id]);
    assert.deepEqual(await ids('status=redeemed'), [redeemedOne.id]);
    assert.deepEqual(await ids('status=new'), [newOne.id]);
    assert.deepEqual(await ids('status=sent'), []);
    assert.deepEqual(await ids(`contactId=${signedIn.id}`), [redeemedOne.id]);
    assert.deepEqual(await ids('search=zebra'), [newOne.id, inactiveOne.id]);
    assert.deepEqual((await ids('limit=500')).length, 3);
    problem(await h.api('GET', '/api/v1/invitations?status=bogus'), 400, 'VALIDATION_FAILED');
  });

  it('never shows the code in reads and lists; reveals it through an audited call', async () => {
    const { invitation } = await makeSingle(h);
    const got = ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}`));
    assert.equal('code' in got, false);
    assert.equal('redemptionUrl' in got, false);
    const list = await h.api('GET', '/api/v1/invitations?limit=500');
    assert.ok(!list.body.includes(invitation.code));
    const revealed = ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}/code`));
    assert.equal(revealed.code, invitation.code);
    assert.equal(revealed.redemptionUrl, invitation.redemptionUrl);
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${invitation.id}`),
    );
    assert.equal(audit.items[0].action, 'invitation.code_revealed');
    assert.ok(!JSON.stringify(audit).includes(invitation.code));
  });

  it('regenerates the code: every earlier code stops working at once', async () => {
    const { website, contact, invitation } = await makeSingle(h);
    await h.deps.db.updateTable('contacts').set({ login_enabled: 1 }).where('id', '=', contact.id).execute();
    const first = invitation.code;
    const second = ok<Json>(await h.api('POST', `/api/v1/invitations/${invitation.id}/regenerate-code`)).code;
    const third = ok<Json>(await h.api('POST', `/api/v1/invitations/${invitation.id}/regenerate-code`)).code;
    assert.notEqual(first, second);
    assert.notEqual(second, third);
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}/code`)).code, third);
    for (const old of [first, second]) {
      await assert.rejects(signIn(website.id, old, contact.id), { code: 'INVITATION_NOT_REDEEMABLE' });
    }
    await signIn(website.id, third, contact.id);
  });

  it('deactivates and activates, audited, and inactive invitations stay listed', async () => {
    const { website, invitation } = await makeSingle(h);
    const off = ok<Json>(await h.api('POST', `/api/v1/invitations/${invitation.id}/deactivate`));
    assert.deepEqual([off.state, off.statusReason, off.status], ['inactive', 'inactive', 'inactive']);
    const on = ok<Json>(await h.api('POST', `/api/v1/invitations/${invitation.id}/activate`));
    assert.deepEqual([on.state, on.statusReason, on.status], ['active', 'new', 'new']);
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${invitation.id}`),
    );
    assert.deepEqual(audit.items.map((e: Json) => e.action).slice(0, 2), [
      'invitation.activated',
      'invitation.deactivated',
    ]);
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}`)).items.length, 1);
    problem(await h.api('POST', `/api/v1/invitations/${missing}/deactivate`), 404, 'NOT_FOUND');
    problem(await h.api('POST', `/api/v1/invitations/${missing}/activate`), 404, 'NOT_FOUND');
  });

  it('edits an invitation under the same rules as creation', async () => {
    const website = await makeWebsite(h);
    const role = await makeWebRole(h, website.id);
    const foreign = await makeWebRole(h, (await makeWebsite(h)).id);
    const account = await makeAccount(h);
    const group = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 2 });
    const edited = ok<Json>(
      await h.api('PATCH', `/api/v1/invitations/${group.id}`, {
        name: 'Renamed',
        maxRedemptions: 10,
        webRoleIds: [role.id],
        assignToAccountId: account.id,
      }),
    );
    assert.deepEqual(
      [edited.name, edited.maxRedemptions, edited.webRoleIds, edited.assignToAccountId],
      ['Renamed', 10, [role.id], account.id],
    );
    problem(
      await h.api('PATCH', `/api/v1/invitations/${group.id}`, { webRoleIds: [foreign.id] }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('PATCH', `/api/v1/invitations/${group.id}`, { type: 'single' }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('PATCH', `/api/v1/invitations/${group.id}`, { websiteId: website.id }),
      400,
      'VALIDATION_FAILED',
    );
    problem(await h.api('PATCH', `/api/v1/invitations/${group.id}`, {}), 400, 'VALIDATION_FAILED');
    problem(
      await h.api('PATCH', `/api/v1/invitations/${group.id}`, { expiresAt: null }),
      400,
      'VALIDATION_FAILED',
    );
    const { invitation: single } = await makeSingle(h);
    problem(
      await h.api('PATCH', `/api/v1/invitations/${single.id}`, { invitedContactIds: [] }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('PATCH', `/api/v1/invitations/${single.id}`, { maxRedemptions: 2 }),
      400,
      'VALIDATION_FAILED',
    );
    problem(await h.api('PATCH', `/api/v1/invitations/${missing}`, { name: 'x' }), 404, 'NOT_FOUND');
  });

  it('keeps the maximum at or above the redemptions made, and the status in step', async () => {
    const website = await makeWebsite(h);
    const group = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 2 });
    for (let i = 0; i < 2; i++) await signIn(website.id, group.code, (await makeSignedInContact(h)).id);
    const used = ok<Json>(await h.api('GET', `/api/v1/invitations/${group.id}`));
    assert.deepEqual([used.status, used.statusReason, used.redemptionCount], ['redeemed', 'redeemed', 2]);
    problem(
      await h.api('PATCH', `/api/v1/invitations/${group.id}`, { maxRedemptions: 1 }),
      400,
      'VALIDATION_FAILED',
    );
    const raised = ok<Json>(await h.api('PATCH', `/api/v1/invitations/${group.id}`, { maxRedemptions: 3 }));
    assert.deepEqual([raised.status, raised.statusReason], ['new', 'new']);
    await signIn(website.id, group.code, (await makeSignedInContact(h)).id);
  });

  it('deletes only invitations that were never redeemed', async () => {
    const { invitation } = await makeSingle(h);
    ok(await h.api('DELETE', `/api/v1/invitations/${invitation.id}`), 204);
    problem(await h.api('GET', `/api/v1/invitations/${invitation.id}`), 404, 'NOT_FOUND');
    const website = await makeWebsite(h);
    const c = await makeSignedInContact(h);
    const redeemed = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [c.id],
    });
    await signIn(website.id, redeemed.code, c.id);
    problem(await h.api('DELETE', `/api/v1/invitations/${redeemed.id}`), 409, 'INVITATION_REDEEMED');
    ok(await h.api('GET', `/api/v1/invitations/${redeemed.id}`));
  });

  it('lists the Invite Redemption activities', async () => {
    const website = await makeWebsite(h);
    const c = await makeSignedInContact(h);
    const inv = await makeInvitation(h, { type: 'single', websiteId: website.id, invitedContactIds: [c.id] });
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations/${inv.id}/redemptions`)).items.length, 0);
    await signIn(website.id, inv.code, c.id);
    const items = ok<Json>(await h.api('GET', `/api/v1/invitations/${inv.id}/redemptions`)).items;
    assert.equal(items.length, 1);
    assert.deepEqual(
      [items[0].contactId, items[0].method, items[0].username, items[0].ipAddress, items[0].userAgent],
      [c.id, 'signin', c.username, '203.0.113.9', 'test'],
    );
    problem(await h.api('GET', `/api/v1/invitations/${missing}/redemptions`), 404, 'NOT_FOUND');
  });

  it('requires an API key of an enabled user', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/invitations' });
    problem(res, 401, 'UNAUTHENTICATED');
    problem(
      await h.app.inject({
        method: 'GET',
        url: '/api/v1/invitations',
        headers: { authorization: 'Bearer admit_wrong_key_000000000000000' },
      }),
      401,
      'UNAUTHENTICATED',
    );
    problem(
      await h.app.inject({
        method: 'GET',
        url: '/api/v1/invitations',
        headers: { authorization: 'Basic abc' },
      }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('reads an invitation with its owner and inviter named', async () => {
    const website = await makeWebsite(h);
    const [invitee, inviter] = [await makeContact(h), await makeContact(h, { firstName: 'Ines' })];
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [invitee.id],
      inviterContactId: inviter.id,
    });
    const read = ok<Json>(await h.api('GET', `/api/v1/invitations/${inv.id}`));
    assert.equal(read.owner.id, inv.ownerId);
    assert.equal(typeof read.owner.name, 'string');
    assert.deepEqual(read.inviter, {
      id: inviter.id,
      firstName: 'Ines',
      lastName: inviter.lastName,
      email: inviter.email,
    });
    const plain = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [invitee.id],
    });
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/invitations/${plain.id}`)).inviter, null);
  });
});
