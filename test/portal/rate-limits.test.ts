import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { makeWebsite } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';

onBothDatabases('portal rate limits', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, {
      env: { ADMIT_RATE_LIMIT_PER_IP: '3', ADMIT_RATE_LIMIT_GLOBAL: '5', TRUST_PROXY: 'true' },
    });
  });
  after(() => h.close());

  /** Moves the clock to the start of a window no other test uses (hours ahead). */
  const freshWindow = (harness: Harness, hours: number) => {
    const now = harness.deps.now().getTime() + hours * 3_600_000;
    harness.advance(hours * 3_600_000 + 60_000 - (now % 60_000) + 1000);
  };

  const attempt = async (b: PortalClient, slug: string, headers: Record<string, string> = {}) => {
    await b.get(`/portal/${slug}/redeem`, { headers });
    return b.post(`/portal/${slug}/redeem`, { code: 'ZZZZ-ZZZZ' }, { headers });
  };

  it('per IP and for everyone; they trip, say when to come back, and recover after the window', async () => {
    const website = await makeWebsite(h);
    freshWindow(h, 1);
    try {
      const one = new PortalClient(h, '203.0.113.1');
      for (let i = 0; i < 3; i++) assert.equal((await attempt(one, website.slug)).statusCode, 422);
      const tripped = await attempt(one, website.slug);
      assert.equal(tripped.statusCode, 429);
      assert.match(textOf(tripped.body), /Too many attempts/);
      const retry = Number(tripped.headers['retry-after']);
      assert.ok(retry > 0 && retry <= 60, `Retry-After ${retry}`);

      const two = new PortalClient(h, '203.0.113.2');
      assert.equal((await attempt(two, website.slug)).statusCode, 422, 'another IP has its own budget');
      assert.equal(
        (await attempt(two, website.slug)).statusCode,
        429,
        'until everyone’s budget (5) is spent',
      );
      assert.equal((await attempt(new PortalClient(h, '203.0.113.3'), website.slug)).statusCode, 429);

      // Another process on the same database counts the same attempts.
      const other = await buildApp(h.deps);
      try {
        const elsewhere = new PortalClient({ ...h, app: other }, '203.0.113.4');
        assert.equal((await attempt(elsewhere, website.slug)).statusCode, 429);
      } finally {
        await other.close();
      }

      h.advance(60_000);
      assert.equal((await attempt(one, website.slug)).statusCode, 422, 'recovered in the next window');
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
    freshWindow(h, 3);
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

      freshWindow(h, 1);
      // Two refused registration posts, then pages: the third refusal is the last allowed, so the
      // posts counted (the 'register' limit, a budget of its own, is not spent by two posts).
      const poster = new PortalClient(h, '203.0.113.22');
      for (let i = 0; i < 2; i++) {
        await land(poster);
        await poster.get(`/portal/${website.slug}/redeem`);
        const refused = await poster.post(`/portal/${website.slug}/register`, {
          email: `g${i}@example.test`,
          username: `guess_${i}`,
          password: 'correct horse battery staple',
          confirmPassword: 'correct horse battery staple',
        });
        assert.equal(refused.statusCode, 422, 'the post refuses the code');
      }
      await land(poster);
      assert.equal((await poster.get(`/portal/${website.slug}/register`)).statusCode, 422);
      await land(poster);
      assert.equal((await poster.get(`/portal/${website.slug}/register`)).statusCode, 429);
    } finally {
      h.advance(-(h.deps.now().getTime() - Date.now()));
    }
  });

  it('honours TRUST_PROXY: the client address comes from X-Forwarded-For', async () => {
    const website = await makeWebsite(h);
    freshWindow(h, 2);
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
