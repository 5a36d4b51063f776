import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { type Json, makeInvitation, makeWebsite, ok, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { makeMember, nextRateLimitWindow, signInAs } from '../support/portal.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

onBothDatabases('portal rate limits', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, {
      env: {
        ADMIT_RATE_LIMIT_PER_IP: '3',
        ADMIT_RATE_LIMIT_GLOBAL: '5',
        ADMIT_RATE_LIMIT_PER_ACCOUNT: '3',
        ADMIT_RATE_LIMIT_PER_CODE: '3',
        TRUST_PROXY: 'true',
      },
    });
  });
  after(() => h.close());

  /** Moves the clock to the start of a window no other test uses (hours ahead). */
  const freshWindow = async (harness: Harness, hours: number) => {
    const now = harness.deps.now().getTime() + hours * 3_600_000;
    await nextRateLimitWindow(harness, hours * 3_600_000 + 60_000 - (now % 60_000) + 1000);
  };

  const attempt = async (b: PortalClient, slug: string, headers: Record<string, string> = {}) => {
    await b.get(`/portal/${slug}/redeem`, { headers });
    return b.post(`/portal/${slug}/redeem`, { code: 'ZZZZ-ZZZZ' }, { headers });
  };

  it('per IP on every portal POST: each trips, says when to come back, and recovers after the window', async () => {
    const website = await makeWebsite(h, { settings: { openRegistrationEnabled: true } });
    const posts: [string, Record<string, string>][] = [
      ['/redeem', { code: 'ZZZZ-ZZZZ' }],
      ['/register', { email: 'x@example.test' }],
      ['/signin', { login: `nobody_${rand()}`, password: 'nothing at all' }],
      ['/signout', {}],
      ['/forgot-password', { email: 'nobody@example.test' }],
      ['/reset-password', { token: 'x' }],
      ['/confirm-email', { token: 'x' }],
      ['/confirm-registration', { token: 'x' }],
      ['/redeem/confirm', {}],
    ];
    await freshWindow(h, 1);
    try {
      for (const [n, [path, form]] of posts.entries()) {
        const b = new PortalClient(h, `203.0.113.${10 + n}`);
        for (let i = 0; i < 3; i++) {
          await b.get(`/portal/${website.slug}/redeem`);
          const res = await b.post(`/portal/${website.slug}${path}`, form);
          assert.notEqual(res.statusCode, 429, `${path} attempt ${i + 1}`);
        }
        await b.get(`/portal/${website.slug}/redeem`);
        const tripped = await b.post(`/portal/${website.slug}${path}`, form);
        assert.equal(tripped.statusCode, 429, path);
        assert.match(textOf(tripped.body), /Too many attempts from here/);
        const retry = Number(tripped.headers['retry-after']);
        assert.ok(retry > 0 && retry <= 60, `Retry-After ${retry}`);
        const other = new PortalClient(h, `198.51.100.${10 + n}`);
        await other.get(`/portal/${website.slug}/redeem`);
        // Sign-in and reset requests also count per account: the other address uses another one.
        const otherForm =
          path === '/signin'
            ? { ...form, login: `nobody_${rand()}` }
            : path === '/forgot-password'
              ? { email: `nobody.${rand()}@example.test` }
              : form;
        assert.notEqual(
          (await other.post(`/portal/${website.slug}${path}`, otherForm)).statusCode,
          429,
          `${path}: another IP has its own budget`,
        );
      }
      // Another process on the same database counts the same attempts.
      const other = await buildApp(h.deps);
      try {
        const elsewhere = new PortalClient({ ...h, app: other }, '203.0.113.10');
        await elsewhere.get(`/portal/${website.slug}/redeem`);
        assert.equal(
          (await elsewhere.post(`/portal/${website.slug}/redeem`, { code: 'ZZZZ' })).statusCode,
          429,
        );
      } finally {
        await other.close();
      }
      await nextRateLimitWindow(h, 60_000);
      const again = new PortalClient(h, '203.0.113.10');
      assert.equal((await attempt(again, website.slug)).statusCode, 422, 'recovered in the next window');
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });

  it('code guesses from everyone together have a ceiling, which recovers', async () => {
    const website = await makeWebsite(h);
    await freshWindow(h, 4);
    try {
      // Global budget 5: two guesses from each of three addresses; the sixth is refused, from anyone.
      const results: number[] = [];
      for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3'])
        for (let i = 0; i < 2; i++)
          results.push((await attempt(new PortalClient(h, ip), website.slug)).statusCode);
      assert.deepEqual(results, [422, 422, 422, 422, 422, 429]);
      const tripped = await attempt(new PortalClient(h, '192.0.2.4'), website.slug);
      assert.equal(tripped.statusCode, 429);
      assert.match(textOf(tripped.body), /Too many attempts right now/);
      await nextRateLimitWindow(h, 60_000);
      assert.equal((await attempt(new PortalClient(h, '192.0.2.4'), website.slug)).statusCode, 422);
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });

  it('per account: failed sign-ins on one account trip it for that address, and for all once ten times over; it recovers', async () => {
    const website = await makeWebsite(h);
    const member = await makeMember(h, {}, [website.id]);
    await freshWindow(h, 5);
    try {
      const guesser = new PortalClient(h, '192.0.2.50');
      for (let i = 0; i < 3; i++)
        assert.equal(
          (await signInAs(guesser, website.slug, member.username, 'wrong password')).statusCode,
          401,
        );
      const blocked = await signInAs(guesser, website.slug, member.username);
      assert.equal(blocked.statusCode, 429, 'the right password waits too, from that address');
      assert.match(textOf(blocked.body), /Too many attempts/);
      assert.equal(
        (await signInAs(new PortalClient(h, '192.0.2.51'), website.slug, member.username)).statusCode,
        303,
        'the owner from another address',
      );
      for (let ip = 0; ip < 10; ip++)
        for (let i = 0; i < 3; i++)
          await signInAs(
            new PortalClient(h, `192.0.3.${ip}`),
            website.slug,
            member.username,
            'wrong password',
          );
      assert.equal(
        (await signInAs(new PortalClient(h, '192.0.2.52'), website.slug, member.username)).statusCode,
        429,
        'thirty failures from ten addresses: everyone waits',
      );
      await nextRateLimitWindow(h, 60_000);
      assert.equal((await signInAs(guesser, website.slug, member.username)).statusCode, 303, 'recovered');
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });

  it('many addresses spending sign-in attempts on made-up accounts do not stop a real contact', async () => {
    const website = await makeWebsite(h);
    const member = await makeMember(h, {}, [website.id]);
    await freshWindow(h, 6);
    try {
      for (let ip = 0; ip < 80; ip++) {
        const b = new PortalClient(h, `100.64.${Math.floor(ip / 200)}.${ip % 200}`);
        for (let i = 0; i < 3; i++)
          assert.equal(
            (await signInAs(b, website.slug, `madeup_${ip}_${i}`, 'guess guess guess')).statusCode,
            401,
          );
      }
      const real = await signInAs(new PortalClient(h, '100.65.0.1'), website.slug, member.username);
      assert.equal(real.statusCode, 303, '240 failed attempts from 80 addresses later');
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });

  it('per code: refused attempts on one invitation trip it and are audited once a minute; another invitation is unaffected', async () => {
    const website = await makeWebsite(h);
    const spent = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 1 });
    ok(await h.api('POST', `/api/v1/invitations/${spent.id}/deactivate`));
    const fine = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
    await freshWindow(h, 7);
    try {
      const post = async (ip: string, code: string) => {
        const b = new PortalClient(h, ip);
        await b.get(`/portal/${website.slug}/redeem`);
        return b.post(`/portal/${website.slug}/redeem`, { code });
      };
      for (let i = 0; i < 3; i++) assert.equal((await post(`192.0.2.${80 + i}`, spent.code)).statusCode, 422);
      const tripped = await post('192.0.2.90', spent.code);
      assert.equal(tripped.statusCode, 429);
      assert.match(textOf(tripped.body), /Too many attempts with this invitation/);
      assert.equal((await post('192.0.2.91', fine.code)).statusCode, 303, 'another invitation');
      const audit = ok<{ items: Json[] }>(
        await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${spent.id}`),
      ).items.filter((e) => e.action === 'invitation.redemption_refused');
      assert.equal(audit.length, 1, 'one event for the minute');
      assert.equal(audit[0]?.data.attempts, 4);
      assert.deepEqual(audit[0]?.data.reasons, { inactive: 4 });
      assert.equal(audit[0]?.actor.type, 'contact');
      await nextRateLimitWindow(h, 60_000);
      assert.equal((await post('192.0.2.92', spent.code)).statusCode, 422, 'recovered');
      const later = ok<{ items: Json[] }>(
        await h.api('GET', `/api/v1/audit-events?entityType=invitation&entityId=${spent.id}`),
      ).items.filter((e) => e.action === 'invitation.redemption_refused');
      assert.equal(later.length, 2, 'a new event for the next minute');
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });

  it('a code the landing kept unchecked counts when a page refuses it, on the page or the form post', async () => {
    // The landing keeps any well-formed code without a lookup and answers the same 303 for all;
    // the first page or post that finds the code unredeemable counts it (decision 0010).
    const website = await makeWebsite(h, { settings: { openRegistrationEnabled: true } });
    const unknown = 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ';
    const land = (b: PortalClient) => b.get(`/portal/${website.slug}/register?invitation=${unknown}`);
    await freshWindow(h, 3);
    try {
      const guesser = new PortalClient(h, '203.0.113.21');
      for (let i = 0; i < 3; i++) {
        assert.equal((await land(guesser)).statusCode, 303, 'the landing answers alike');
        const page = await guesser.get(`/portal/${website.slug}/register`);
        assert.equal(page.statusCode, 422, 'the page refuses the code');
        assert.equal((await guesser.get(`/portal/${website.slug}/register`)).statusCode, 422);
      }
      await land(guesser);
      assert.equal(
        (await guesser.get(`/portal/${website.slug}/register`)).statusCode,
        429,
        'counted once each',
      );

      await freshWindow(h, 1);
      // A registration post whose invitation became unredeemable after its page was shown counts too.
      const group = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 5 });
      const poster = new PortalClient(h, '203.0.113.22');
      for (let i = 0; i < 3; i++) {
        ok(await h.api('POST', `/api/v1/invitations/${group.id}/activate`));
        await poster.get(`/portal/${website.slug}/register?invitation=${group.code}`, { follow: true });
        ok(await h.api('POST', `/api/v1/invitations/${group.id}/deactivate`));
        const refused = await poster.post(`/portal/${website.slug}/register`, {
          email: `g${i}@example.test`,
          username: `guess_${i}`,
          password: 'correct horse battery staple',
          confirmPassword: 'correct horse battery staple',
        });
        assert.equal(refused.statusCode, 422, 'the post refuses the code');
      }
      await land(poster);
      assert.equal(
        (await poster.get(`/portal/${website.slug}/register`)).statusCode,
        429,
        'the three posts counted',
      );
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });

  it('honours TRUST_PROXY: the client address comes from X-Forwarded-For', async () => {
    const website = await makeWebsite(h);
    await freshWindow(h, 2);
    try {
      const proxy = new PortalClient(h, '10.1.1.1');
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      for (let i = 0; i < 3; i++)
        assert.equal((await attempt(proxy, website.slug, from('198.18.0.1'))).statusCode, 422);
      assert.equal((await attempt(proxy, website.slug, from('198.18.0.1'))).statusCode, 429);
      assert.equal(
        (await attempt(proxy, website.slug, from('198.18.0.2'))).statusCode,
        422,
        'another client behind the same proxy',
      );
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });
});
