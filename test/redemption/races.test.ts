import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { deactivateInvitation } from '../../src/modules/invitations/invitation.service.ts';
import { type RedeemInput, redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import {
  type Json,
  makeContact,
  makeInvitation,
  makeSignedInContactsBulk,
  makeWebsite,
  ok,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

onBothDatabases('redemption under concurrency', (dialect) => {
  let h: Harness;
  before(async () => {
    // The losers' refusals are audited and counted per code; the per-code limit is not under test here.
    h = await startHarness(dialect, { env: { ADMIT_RATE_LIMIT_PER_CODE: '100000' } });
  });
  after(() => h.close());

  const attempt = (input: Omit<RedeemInput, 'ipAddress' | 'userAgent'>) =>
    redeemInvitation(h.deps, { ...input, ipAddress: '127.0.0.1', userAgent: 'race' });
  const asContact = (contactId: string) => ({
    kind: 'contact' as const,
    contactId,
    method: 'signin' as const,
  });

  async function settle(promises: Promise<unknown>[]) {
    const results = await Promise.allSettled(promises);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const r of rejected)
      assert.equal(r.reason.code, 'INVITATION_NOT_REDEEMABLE', String(r.reason?.stack ?? r.reason));
    return { fulfilled: results.length - rejected.length, rejected: rejected.length };
  }

  async function state(invitationId: string) {
    const inv = ok<Json>(await h.api('GET', `/api/v1/invitations/${invitationId}`));
    const redemptions = await h.deps.db
      .selectFrom('invite_redemptions')
      .select('contact_id')
      .where('invitation_id', '=', invitationId)
      .execute();
    return { inv, redemptions: redemptions.length };
  }

  it('200 different contacts at once on one Single code: exactly one succeeds', async () => {
    const website = await makeWebsite(h, { settings: { redeemByOtherContactAllowed: true } });
    const contacts = await makeSignedInContactsBulk(h, 200);
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [contacts[0]],
    });
    const outcome = await settle(
      contacts.map((id) => attempt({ websiteId: website.id, code: inv.code, redeemer: asContact(id) })),
    );
    assert.deepEqual(outcome, { fulfilled: 1, rejected: 199 });
    const { inv: after, redemptions } = await state(inv.id);
    assert.deepEqual(
      [after.redemptionCount, after.redeemedContactIds.length, redemptions, after.status],
      [1, 1, 1, 'redeemed'],
    );
  });

  it('200 contacts at once on a Group code with maxRedemptions 50: exactly 50 succeed', async () => {
    const website = await makeWebsite(h);
    const contacts = await makeSignedInContactsBulk(h, 200);
    const inv = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 50 });
    const outcome = await settle(
      contacts.map((id) => attempt({ websiteId: website.id, code: inv.code, redeemer: asContact(id) })),
    );
    assert.deepEqual(outcome, { fulfilled: 50, rejected: 150 });
    const { inv: after, redemptions } = await state(inv.id);
    assert.deepEqual(
      [after.redemptionCount, after.redeemedContactIds.length, redemptions, after.statusReason],
      [50, 50, 50, 'redeemed'],
    );
    const granted = await h.deps.db
      .selectFrom('invitation_redeemed_contacts')
      .select('contact_id')
      .where('invitation_id', '=', inv.id)
      .execute();
    assert.equal(new Set(granted.map((g) => g.contact_id)).size, 50);
  });

  it('one contact 20 times at once on a Group code takes one slot', async () => {
    const website = await makeWebsite(h);
    const [contact] = await makeSignedInContactsBulk(h, 1);
    const inv = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 10 });
    const outcome = await settle(
      Array.from({ length: 20 }, () =>
        attempt({ websiteId: website.id, code: inv.code, redeemer: asContact(contact as string) }),
      ),
    );
    assert.deepEqual(outcome, { fulfilled: 1, rejected: 19 });
    const { inv: after, redemptions } = await state(inv.id);
    assert.deepEqual([after.redemptionCount, redemptions], [1, 1]);
  });

  it('200 registrations at once with one Single code create exactly one account', async () => {
    const website = await makeWebsite(h);
    const invited = await makeContact(h);
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [invited.id],
    });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        attempt({
          websiteId: website.id,
          code: inv.code,
          redeemer: {
            kind: 'register',
            email: invited.email,
            username: `reg${i}_${rand(3)}`,
            passwordHash: HASH,
          },
        }),
      ),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    assert.equal(winners.length, 1);
    for (const r of results)
      if (r.status === 'rejected')
        assert.ok(['INVITATION_NOT_REDEEMABLE', 'ACCOUNT_EXISTS'].includes(r.reason.code), String(r.reason));
    const c = ok<Json>(await h.api('GET', `/api/v1/contacts/${invited.id}`));
    assert.equal(c.loginEnabled, true);
    const loginContacts = await h.deps.db
      .selectFrom('contacts')
      .select('id')
      .where('email_normalized', '=', invited.email.toLowerCase())
      .execute();
    assert.equal(loginContacts.length, 1, 'no duplicate contact');
    assert.equal((await state(inv.id)).redemptions, 1);
  });

  it('a redemption racing deactivation never commits after the deactivation', async () => {
    const website = await makeWebsite(h);
    const contacts = await makeSignedInContactsBulk(h, 120);
    const inv = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 1000 });
    const go = (id: string) => attempt({ websiteId: website.id, code: inv.code, redeemer: asContact(id) });
    const early = contacts.slice(0, 60).map(go);
    // The deactivation starts once the first redemption is done, while the others are under way.
    await Promise.race(early.map((p) => p.catch(() => undefined)));
    const deactivation = deactivateInvitation(h.deps, { type: 'user', id: inv.ownerId, ip: null }, inv.id);
    const late = contacts.slice(60).map(go);
    const outcome = await settle([...early, ...late]);
    assert.equal((await deactivation).status, 'inactive');
    const audit = ok<Json>(
      await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${inv.id}`),
    ).items;
    const atDeactivation = audit.find((e: Json) => e.action === 'invitation.deactivated').data
      .redemptionCount;
    const { inv: after, redemptions } = await state(inv.id);
    assert.equal(after.redemptionCount, atDeactivation, 'no redemption committed after the deactivation');
    assert.equal(redemptions, atDeactivation);
    assert.equal(outcome.fulfilled, atDeactivation);
    assert.ok(outcome.fulfilled > 0 && outcome.rejected > 0, `the race happened: ${JSON.stringify(outcome)}`);
    await assert.rejects(go(contacts[119] as string), { code: 'INVITATION_NOT_REDEEMABLE' });
  });
});
