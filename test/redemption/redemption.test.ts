import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { INVALID_CODE_MESSAGE } from '../../src/errors.ts';
import { holdRegistration } from '../../src/modules/invitations/held-registration.ts';
import { codeHash } from '../../src/modules/invitations/invitation.code.ts';
import {
  ConfirmationRequired,
  type Redeemer,
  redeemInvitation,
} from '../../src/modules/invitations/redemption.service.ts';
import {
  expireInvitation,
  type Json,
  makeContact,
  makeInvitation,
  makeSignedInContact,
  makeSingle,
  makeWebsite,
  makeWorkflow,
  ok,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

onBothDatabases('redeemInvitation', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const redeem = (websiteId: string, code: string, redeemer: Redeemer) =>
    redeemInvitation(h.deps, {
      websiteId,
      code,
      redeemer,
      ipAddress: '198.51.100.7',
      userAgent: 'Mozilla/5.0 test',
    });
  const register = (email: string, username: string | null = `u_${rand()}`): Redeemer => ({
    kind: 'register',
    email,
    username,
    passwordHash: HASH,
  });
  const asContact = (contactId: string): Redeemer => ({ kind: 'contact', contactId, method: 'signin' });
  const contact = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/contacts/${id}`));
  const invitation = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/invitations/${id}`));
  /** Runs `work` with `table` renamed away (a write to it fails), then puts it back. */
  const withTableAway = async (table: string, work: () => Promise<unknown>) => {
    await h.deps.db.schema.alterTable(table).renameTo(`${table}_away`).execute();
    try {
      await work();
    } finally {
      await h.deps.db.schema.alterTable(`${table}_away`).renameTo(table).execute();
    }
  };
  const auditCount = async (invitationId: string) =>
    ok<Json>(await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${invitationId}`)).items
      .length;
  /** What a redemption of the invitation queued for after commit: its events and workflow runs. */
  const jobs = async (invitationId: string) => {
    const events = (await h.deps.db.selectFrom('events').select(['type', 'data']).execute())
      .map((e) => ({ type: e.type, data: typeof e.data === 'string' ? JSON.parse(e.data) : e.data }))
      .filter((e) => e.data.invitationId === invitationId && e.type !== 'invitation.created');
    const runs = await h.deps.db
      .selectFrom('workflow_runs')
      .select('id')
      .where('invitation_id', '=', invitationId)
      .execute();
    return [...events, ...runs];
  };

  it('Single + registration: credentials go on the invited contact, who gets the account and roles', async () => {
    const workflowId = await makeWorkflow(h);
    const {
      website,
      role,
      account,
      contact: invited,
      invitation: inv,
    } = await makeSingle(h, { redemptionWorkflowId: workflowId });
    const username = `ada_${rand()}`;
    const result = await redeem(
      website.id,
      inv.code.toLowerCase().replace(/-/g, ' '),
      register(invited.email, username),
    );
    assert.equal(result.contactId, invited.id, 'no duplicate contact');
    assert.equal(result.contactCreated, false);
    assert.equal(result.emailConfirmed, true, 'the code proves the inbox');
    const c = await contact(invited.id);
    assert.deepEqual(
      [c.username, c.loginEnabled, c.emailConfirmed, c.parentAccountId, c.webRoleIds],
      [username, true, true, account.id, [role.id]],
    );
    const after = await invitation(inv.id);
    assert.deepEqual(
      [after.redemptionCount, after.statusReason, after.status, after.redeemedContactIds],
      [1, 'redeemed', 'redeemed', [invited.id]],
    );
    const [activity] = ok<Json>(await h.api('GET', `/api/v1/invitations/${inv.id}/redemptions`)).items;
    assert.deepEqual(
      [activity.method, activity.username, activity.ipAddress, activity.userAgent],
      ['register', username, '198.51.100.7', 'Mozilla/5.0 test'],
    );
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${inv.id}`),
    ).items[0];
    assert.deepEqual(
      [audit.action, audit.actor.type, audit.actor.id, audit.ipAddress],
      ['invitation.redeemed', 'contact', invited.id, '198.51.100.7'],
    );
    // The redemption started its workflow's run, at the workflow's version, with the run's job.
    const [run, ...more] = ok<Json>(await h.api('GET', `/api/v1/workflow-runs?invitationId=${inv.id}`)).items;
    assert.deepEqual(more, []);
    assert.deepEqual(
      [run.workflowId, run.workflowVersion, run.contactId, run.trigger, run.websiteId],
      [workflowId, 1, invited.id, 'redemption', website.id],
    );
    const runJobs = await h.deps.db
      .selectFrom('jobs')
      .select('payload')
      .where('type', '=', 'workflow.run')
      .execute();
    assert.equal(
      runJobs.filter(
        (j) => (typeof j.payload === 'string' ? JSON.parse(j.payload) : j.payload).runId === run.id,
      ).length,
      1,
    );
  });

  it('Single + registration with another email: refused, unless the website allows it; then it waits for confirmation and writes nothing', async () => {
    const { website, contact: invited, invitation: inv } = await makeSingle(h);
    const other = `changed.${rand()}@example.test`;
    await assert.rejects(redeem(website.id, inv.code, register(other)), {
      code: 'INVITATION_EMAIL_REQUIRED',
    });
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, {
        settings: { invitationEmailChangeAllowed: true },
      }),
    );
    await assert.rejects(redeem(website.id, inv.code, register(other)), (e: unknown) => {
      assert.ok(e instanceof ConfirmationRequired);
      assert.deepEqual([e.contactId, e.email, e.invitationId], [invited.id, other, inv.id]);
      return true;
    });
    const c = await contact(invited.id);
    assert.deepEqual([c.email, c.loginEnabled, c.webRoleIds], [invited.email, false, []]);
    assert.equal((await invitation(inv.id)).redemptionCount, 0);
  });

  it('registration with the email or username of someone who signs in is ACCOUNT_EXISTS, and changes nothing', async () => {
    const existing = await makeSignedInContact(h);
    const { website, invitation: inv } = await makeSingle(h);
    await assert.rejects(redeem(website.id, inv.code, register(existing.email.toUpperCase())), {
      code: 'ACCOUNT_EXISTS',
    });
    await assert.rejects(
      redeem(website.id, inv.code, register(`x.${rand()}@example.test`, existing.username.toUpperCase())),
      { code: 'ACCOUNT_EXISTS' },
    );
    assert.equal((await invitation(inv.id)).redemptionCount, 0);
    const { website: w2, contact: already, invitation: inv2 } = await makeSingle(h);
    await h.api('PATCH', `/api/v1/contacts/${already.id}`, { loginEnabled: true, username: `has_${rand()}` });
    await assert.rejects(redeem(w2.id, inv2.code, register(already.email)), { code: 'ACCOUNT_EXISTS' });
  });

  it('with requireUniqueEmail off, a registrant may share an email with a signed-in contact', async () => {
    const existing = await makeSignedInContact(h);
    const { website, contact: invited, invitation: inv } = await makeSingle(h);
    ok(await h.api('PATCH', `/api/v1/contacts/${invited.id}`, { email: existing.email }));
    await assert.rejects(redeem(website.id, inv.code, register(existing.email)), { code: 'ACCOUNT_EXISTS' });
    ok(await h.api('PATCH', `/api/v1/websites/${website.id}`, { settings: { requireUniqueEmail: false } }));
    const r = await redeem(website.id, inv.code, register(existing.email));
    assert.equal(r.contactId, invited.id);
  });

  it('Group + registration: an invited contact by primary email only once its inbox is confirmed, else a new contact', async () => {
    const website = await makeWebsite(h);
    const invited = await makeContact(h);
    const inv = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      invitedContactIds: [invited.id],
      maxRedemptions: 5,
    });
    await assert.rejects(
      redeem(website.id, inv.code, register(invited.email.toUpperCase())),
      (e: unknown) => {
        assert.ok(e instanceof ConfirmationRequired);
        assert.deepEqual([e.contactId, e.email], [invited.id, invited.email]);
        return true;
      },
    );
    assert.equal((await invitation(inv.id)).redemptionCount, 0, 'nothing before the confirmation');
    const heldId = await h.deps.db.transaction().execute((trx) =>
      holdRegistration(trx, h.deps, {
        websiteId: website.id,
        invitationId: inv.id,
        codeHash: codeHash(h.deps.keys, inv.code) as string,
        contactId: invited.id,
        claimedEmail: invited.email,
        email: invited.email,
        username: `held_${rand()}`,
        passwordHash: HASH,
      }),
    );
    const matched = await redeem(website.id, inv.code, {
      ...register(invited.email),
      held: { id: heldId, contactId: invited.id, claimedEmail: invited.email },
    } as Redeemer);
    assert.equal(matched.contactId, invited.id);
    assert.equal(matched.contactCreated, false);
    assert.equal(matched.emailConfirmed, true);
    await assert.rejects(
      redeem(website.id, inv.code, {
        ...register(invited.email),
        held: { id: heldId, contactId: invited.id, claimedEmail: invited.email },
      } as Redeemer),
      { code: 'INVITATION_NOT_REDEEMABLE' },
      'a held registration completes once',
    );
    const stranger = `new.${rand()}@example.test`;
    const created = await redeem(website.id, inv.code, {
      ...register(stranger),
      firstName: 'Nia',
      lastName: 'New',
    } as Redeemer);
    assert.equal(created.contactCreated, true);
    assert.notEqual(created.contactId, invited.id);
    const c = await contact(created.contactId);
    assert.deepEqual(
      [c.email, c.firstName, c.lastName, c.loginEnabled, c.emailConfirmed],
      [stranger, 'Nia', 'New', true, false],
    );
    const after = await invitation(inv.id);
    assert.deepEqual([after.redemptionCount, after.status], [2, 'new']);
    assert.deepEqual([...after.redeemedContactIds].sort(), [invited.id, created.contactId].sort());
  });

  it('one clock: on PostgreSQL the database decides expiry, whatever the process clock says (ten minutes off)', async () => {
    const website = await makeWebsite(h);
    const who = await makeSignedInContact(h);
    const TEN_MINUTES = 600_000;
    const group = (expiresInMs: number) =>
      makeInvitation(h, {
        type: 'group',
        websiteId: website.id,
        maxRedemptions: 5,
        expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
      });
    // Expires in five minutes; this process runs ten minutes ahead.
    const soon = await group(5 * 60_000);
    h.advance(TEN_MINUTES);
    try {
      const attempt = redeem(website.id, soon.code, asContact(who.id));
      if (dialect === 'postgres')
        assert.equal((await attempt).contactId, who.id, 'the database says: not expired');
      else await assert.rejects(attempt, { code: 'INVITATION_NOT_REDEEMABLE' }, 'one machine, one clock');
    } finally {
      h.advance(-TEN_MINUTES);
    }
    // Expired a minute ago; this process runs ten minutes behind.
    const gone = await group(5 * 60_000);
    await h.deps.db
      .updateTable('invitations')
      .set({ expires_at: new Date(Date.now() - 60_000).toISOString() })
      .where('id', '=', gone.id)
      .execute();
    h.advance(-TEN_MINUTES);
    try {
      const attempt = redeem(website.id, gone.code, asContact(who.id));
      if (dialect === 'postgres')
        await assert.rejects(attempt, { code: 'INVITATION_NOT_REDEEMABLE' }, 'the database says: expired');
      else assert.equal((await attempt).contactId, who.id);
    } finally {
      h.advance(TEN_MINUTES);
    }
  });

  it('signed in: a Single invitation only by the invited contact, unless the website allows others', async () => {
    const website = await makeWebsite(h);
    const invited = await makeSignedInContact(h);
    const other = await makeSignedInContact(h);
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [invited.id],
    });
    await assert.rejects(redeem(website.id, inv.code, asContact(other.id)), {
      code: 'INVITATION_NOT_REDEEMABLE',
    });
    ok(
      await h.api('PATCH', `/api/v1/websites/${website.id}`, {
        settings: { redeemByOtherContactAllowed: true },
      }),
    );
    const r = await redeem(website.id, inv.code, asContact(other.id));
    assert.equal(r.contactId, other.id);
    const inv2 = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [invited.id],
    });
    assert.equal((await redeem(website.id, inv2.code, asContact(invited.id))).contactId, invited.id);
  });

  it('signed in: a Group code by anyone with it, each contact once', async () => {
    const website = await makeWebsite(h);
    const inv = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 3 });
    const a = await makeSignedInContact(h);
    await redeem(website.id, inv.code, asContact(a.id));
    await assert.rejects(redeem(website.id, inv.code, asContact(a.id)), {
      code: 'INVITATION_NOT_REDEEMABLE',
    });
    assert.equal((await invitation(inv.id)).redemptionCount, 1);
  });

  it('every failure of a code is the same error with the same message', async () => {
    const website = await makeWebsite(h);
    const other = await makeWebsite(h);
    const who = await makeSignedInContact(h);
    const mk = (extra: Json = {}) =>
      makeInvitation(h, { type: 'single', websiteId: website.id, invitedContactIds: [who.id], ...extra });
    const expired = await mk();
    await expireInvitation(h, expired.id);
    const inactive = await mk();
    ok(await h.api('POST', `/api/v1/invitations/${inactive.id}/deactivate`));
    const used = await mk();
    await redeem(website.id, used.code, asContact(who.id));
    const elsewhere = await makeInvitation(h, {
      type: 'single',
      websiteId: other.id,
      invitedContactIds: [who.id],
    });
    {
      const attempts: [string, string][] = [
        ['unknown', 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345'],
        ['malformed', 'not a code'],
        ['overlong', 'A'.repeat(5000)],
        ['empty', ''],
        ['expired', expired.code],
        ['inactive', inactive.code],
        ['used up', used.code],
        ['other website', elsewhere.code],
      ];
      for (const [why, code] of attempts) {
        await assert.rejects(redeem(website.id, code, asContact(who.id)), (e: Json) => {
          assert.equal(e.code, 'INVITATION_NOT_REDEEMABLE', why);
          assert.equal(e.detail, INVALID_CODE_MESSAGE, why);
          return true;
        });
      }
    }
  });

  it('is all or nothing: a failure after the role grant leaves no trace', async () => {
    const { website, contact: invited, invitation: inv } = await makeSingle(h);
    const auditBefore = await auditCount(inv.id);
    // The Invite Redemption activity is written after the account and web roles are granted;
    // taking its table away makes that write fail inside the transaction.
    await withTableAway('invite_redemptions', () =>
      assert.rejects(redeem(website.id, inv.code, register(invited.email))),
    );
    const c = await contact(invited.id);
    assert.deepEqual([c.loginEnabled, c.username, c.parentAccountId, c.webRoleIds], [false, null, null, []]);
    const after = await invitation(inv.id);
    assert.deepEqual([after.redemptionCount, after.redeemedContactIds, after.statusReason], [0, [], 'new']);
    assert.equal(await auditCount(inv.id), auditBefore);
    assert.deepEqual(await jobs(inv.id), []);
    const ok2 = await redeem(website.id, inv.code, register(invited.email));
    assert.equal(ok2.contactId, invited.id, 'and works once the fault is gone');
  });

  it('signed in, is all or nothing too: a failing write after the grant leaves no trace', async () => {
    // A signed-in contact's redemption is one write batch, not a transaction of the caller's.
    const {
      website,
      role,
      account,
      contact: invited,
      invitation: inv,
    } = await makeSingle(h, {
      redemptionWorkflowId: await makeWorkflow(h),
    });
    await h.api('PATCH', `/api/v1/contacts/${invited.id}`, { username: `u_${rand()}`, loginEnabled: true });
    const auditBefore = await auditCount(inv.id);
    // The workflow's job is written after the account, the roles, the activity and the audit event.
    await withTableAway('jobs', () => assert.rejects(redeem(website.id, inv.code, asContact(invited.id))));
    const c = await contact(invited.id);
    assert.deepEqual([c.parentAccountId, c.webRoleIds], [null, []]);
    const after = await invitation(inv.id);
    assert.deepEqual([after.redemptionCount, after.redeemedContactIds, after.statusReason], [0, [], 'new']);
    const activities = await h.deps.db
      .selectFrom('invite_redemptions')
      .select('id')
      .where('invitation_id', '=', inv.id)
      .execute();
    assert.deepEqual(activities, []);
    assert.equal(await auditCount(inv.id), auditBefore);
    await redeem(website.id, inv.code, asContact(invited.id));
    assert.deepEqual(
      [(await contact(invited.id)).parentAccountId, (await contact(invited.id)).webRoleIds],
      [account.id, [role.id]],
      'and works once the fault is gone',
    );
  });
});
