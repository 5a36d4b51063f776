import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { type Json, makeContact, makeInvitation, makeWebsite, ok, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import {
  land,
  makeMember,
  nextRateLimitWindow,
  outboxLink,
  outboxLinks,
  PASSWORD,
  pathOf,
  registration,
  signInAs,
} from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

/**
 * What an attacker tried against the trust rules (an adversarial review of issue 17), each now a
 * refusal: a verified session outliving a password reset, an email squatted without confirmation,
 * an account locked out from one address, a held claim completing after its contact changed, a
 * mailbox flooded with links, rate limits undone by skewed clocks, removed access given back.
 */
onBothDatabases('portal: attacks on the trust rules', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, {
      worker: true,
      env: {
        ADMIT_RATE_LIMIT_PER_IP: '100000',
        ADMIT_RATE_LIMIT_PER_CODE: '100000',
        ADMIT_RATE_LIMIT_PER_ACCOUNT: '3',
      },
    });
  });
  after(() => h.close());

  const contactOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/contacts/${id}`));
  /** Moves the clock to the start of a window no other test uses (hours ahead), for `work`. */
  async function inFreshWindow(hours: number, work: () => Promise<void>) {
    const now = h.deps.now().getTime() + hours * 3_600_000;
    await nextRateLimitWindow(h, hours * 3_600_000 + 60_000 - (now % 60_000) + 1000);
    try {
      await work();
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  }

  it('a session verified with a stolen password dies with the owner’s password reset', async () => {
    const home = await makeWebsite(h);
    const other = await makeWebsite(h);
    const member = await makeMember(h, {}, [home.id]);
    const invitation = await makeInvitation(h, {
      type: 'single',
      websiteId: other.id,
      invitedContactIds: [member.id],
    });
    const attacker = new PortalClient(h, '198.18.1.1');
    await land(attacker, other.slug, invitation.code);
    assert.equal(
      (await signInAs(attacker, other.slug, member.username)).headers.location,
      `/portal/${other.slug}/redeem/confirm`,
    );
    await attacker.get(`/portal/${other.slug}/redeem/confirm`);

    const owner = new PortalClient(h);
    await owner.get(`/portal/${home.slug}/forgot-password`);
    await owner.post(`/portal/${home.slug}/forgot-password`, { email: member.email });
    const link = await outboxLink(h, member.email, 'reset-password');
    await owner.get(pathOf(link));
    const next = `the owner's new passphrase ${rand()}`;
    await owner.post(`/portal/${home.slug}/reset-password`, {
      token: new URL(link).searchParams.get('token') as string,
      password: next,
      confirmPassword: next,
    });

    const confirmed = await attacker.post(`/portal/${other.slug}/redeem/confirm`, {});
    assert.equal(confirmed.headers.location, `/portal/${other.slug}/signin`, 'sent to sign in again');
    assert.equal((await attacker.get(`/portal/${other.slug}/profile`)).statusCode, 303);
    const inv = ok<Json>(await h.api('GET', `/api/v1/invitations/${invitation.id}`));
    assert.equal(inv.redemptionCount, 0);
  });

  it('an email typed by someone else, never confirmed, does not block its owner’s invitation', async () => {
    const website = await makeWebsite(h);
    const group = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    const victim = await makeContact(h);
    const squatter = new PortalClient(h);
    await land(squatter, website.slug, group.code);
    assert.equal(
      (
        await squatter.post(
          `/portal/${website.slug}/register`,
          registration(victim.email, `sq_${rand()}`, 'squatters passphrase'),
        )
      ).statusCode,
      303,
      'a new contact with the address unconfirmed',
    );
    // The confirmation link that reaches the victim's inbox does not confirm the squatter's account
    // without the squatter's password.
    const confirmLink = await outboxLink(h, victim.email, 'confirm-email');
    const v = new PortalClient(h);
    await v.get(pathOf(confirmLink));
    const refused = await v.post(`/portal/${website.slug}/confirm-email`, {
      token: new URL(confirmLink).searchParams.get('token') as string,
      password: PASSWORD,
    });
    assert.equal(refused.statusCode, 422);
    // No reset is sent for an unconfirmed address.
    await v.get(`/portal/${website.slug}/forgot-password`);
    await v.post(`/portal/${website.slug}/forgot-password`, { email: victim.email });

    const single = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [victim.id],
    });
    const b = new PortalClient(h);
    await land(b, website.slug, single.code);
    const res = await b.post(`/portal/${website.slug}/register`, registration(victim.email));
    assert.equal(res.statusCode, 303, textOf(res.body).slice(0, 300));
    const after = await contactOf(victim.id);
    assert.deepEqual([after.loginEnabled, after.emailConfirmed], [true, true]);
    const resets = await h.deps.db
      .selectFrom('emails')
      .select('subject')
      .where('to_address', '=', victim.email)
      .execute();
    assert.ok(
      resets.every((e) => !/Reset/.test(e.subject ?? '')),
      'no reset for the unconfirmed copy',
    );
  });

  it('one address failing on an account does not lock its owner out; many addresses do, for a minute', async () => {
    const website = await makeWebsite(h);
    const member = await makeMember(h, {}, [website.id]);
    await inFreshWindow(1, async () => {
      const guesser = new PortalClient(h, '198.18.2.1');
      for (let i = 0; i < 3; i++)
        assert.equal((await signInAs(guesser, website.slug, member.username, 'wrong guess')).statusCode, 401);
      assert.equal((await signInAs(guesser, website.slug, member.username, 'wrong guess')).statusCode, 429);
      assert.equal(
        (await signInAs(guesser, website.slug, member.username)).statusCode,
        429,
        'this address waits',
      );
      assert.equal(
        (await signInAs(new PortalClient(h, '198.18.2.2'), website.slug, member.username)).statusCode,
        303,
        'the owner from elsewhere signs in',
      );
      // Ten times the limit from many addresses: the account waits for everyone, for this minute.
      for (let ip = 0; ip < 10; ip++)
        for (let i = 0; i < 3; i++)
          await signInAs(new PortalClient(h, `198.18.3.${ip}`), website.slug, member.username, 'wrong guess');
      assert.equal(
        (await signInAs(new PortalClient(h, '198.18.4.1'), website.slug, member.username)).statusCode,
        429,
      );
    });
  });

  it('a held Group claim no longer completes once an administrator changed the contact’s email', async () => {
    const website = await makeWebsite(h);
    const invited = await makeContact(h);
    const group = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 2,
      invitedContactIds: [invited.id],
    });
    const b = new PortalClient(h);
    await land(b, website.slug, group.code);
    await b.post(`/portal/${website.slug}/register`, registration(invited.email));
    const link = await outboxLink(h, invited.email, 'confirm-registration');
    const corrected = `corrected.${rand()}@example.test`;
    ok(await h.api('PATCH', `/api/v1/contacts/${invited.id}`, { email: corrected }));
    await b.get(pathOf(link));
    const done = await b.post(`/portal/${website.slug}/confirm-registration`, {
      token: new URL(link).searchParams.get('token') as string,
      password: PASSWORD,
    });
    assert.notEqual(done.statusCode, 303);
    const after = await contactOf(invited.id);
    assert.deepEqual([after.email, after.loginEnabled], [corrected, false]);
  });

  it('links mailed to one address are limited, whoever asks and from wherever', async () => {
    const website = await makeWebsite(h);
    const invited = await makeContact(h);
    const group = await makeInvitation(h, {
      type: 'group',
      websiteId: website.id,
      maxRedemptions: 5,
      invitedContactIds: [invited.id],
    });
    await inFreshWindow(2, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const b = new PortalClient(h, `198.18.5.${i}`);
        await land(b, website.slug, group.code);
        statuses.push(
          (await b.post(`/portal/${website.slug}/register`, registration(invited.email))).statusCode,
        );
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      assert.equal((await outboxLinks(h, invited.email, 'confirm-registration', 3)).length, 3);
    });
  });

  // On SQLite every process runs on the one machine, with its one clock.
  if (dialect === 'postgres')
    it('rate limits hold across processes whose clocks are ten minutes apart (the database’s clock decides)', async () => {
      const website = await makeWebsite(h);
      const ahead = await buildApp({ ...h.deps, now: () => new Date(h.deps.now().getTime() + 600_000) });
      try {
        await inFreshWindow(3, async () => {
          const limited = await startLimited(website.slug, [h, { ...h, app: ahead }]);
          assert.ok(limited > 0, 'the two processes count together');
        });
      } finally {
        await ahead.close();
      }
    });

  /** Sign-in attempts from one address, alternating between two processes: how many were refused. */
  async function startLimited(slug: string, processes: Harness[]) {
    let limited = 0;
    for (let i = 0; i < 12; i++) {
      const b = new PortalClient(processes[i % 2] as Harness, '198.18.6.1');
      const res = await signInAs(b, slug, 'nobody_skewed', 'wrong guess');
      if (res.statusCode === 429) limited++;
    }
    return limited;
  }

  it('removed access stays removed where anyone may register; an administrator gives it back', async () => {
    const open = await makeWebsite(h, { settings: { openRegistrationEnabled: true } });
    const member = await makeMember(h, {}, [open.id]);
    ok(await h.api('DELETE', `/api/v1/contacts/${member.id}/websites/${open.id}`), 204);
    assert.equal((await signInAs(new PortalClient(h), open.slug, member.username)).statusCode, 401);
    ok(await h.api('POST', `/api/v1/contacts/${member.id}/websites`, { websiteId: open.id }), 201);
    assert.equal((await signInAs(new PortalClient(h), open.slug, member.username)).statusCode, 303);
  });
});
