import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import { sql } from 'kysely';
import { describeUnlessSkipped, dialectsUnderTest, postgresAdminUrl } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import { type Json, makeContact, makeSingle, makeWebsite, ok, problem } from '../support/factories.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { PortalClient, textOf } from '../support/portal-client.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

/**
 * A database outage is survived, not fatal: the process lives on, answers 503 while it lasts, and
 * everything works again by itself once the database is back. PostgreSQL through a TCP proxy the
 * test cuts and restores (skipped, and counted, without PostgreSQL); SQLite with
 * its file locked by another writer beyond the busy timeout.
 */
const postgresSkip = dialectsUnderTest().find((d) => d.name === 'postgres')?.skip;
describeUnlessSkipped('a PostgreSQL outage [postgres]', postgresSkip, () => {
  let h: Harness;
  let proxy: TcpProxy;
  before(async () => {
    const admin = new URL(postgresAdminUrl);
    proxy = new TcpProxy(admin.hostname, Number(admin.port || 5432));
    await proxy.start();
    h = await startHarness('postgres', {
      worker: true,
      databaseUrl: (url) => {
        const u = new URL(url);
        u.host = `127.0.0.1:${proxy.port}`;
        return u.toString();
      },
    });
  });
  after(async () => {
    await proxy.restore();
    await h?.close();
    await proxy.stop();
  });

  it('kills nothing: 503 with Retry-After on the API, a friendly page on the portal, then it all resumes', async () => {
    const { website, invitation } = await makeSingle(h);
    const contact = await makeContact(h);
    // A statement in flight when the database goes away, on a client checked out of the pool.
    const inFlight = sql`select pg_sleep(3)`.execute(h.deps.db).then(
      () => 'finished',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 300));
    await proxy.cut();
    assert.equal(await inFlight, 'failed');

    const api = await h.api('GET', '/api/v1/contacts');
    problem(api, 503, 'SERVICE_UNAVAILABLE');
    assert.equal(api.headers['retry-after'], '5');
    const write = await h.api('PATCH', `/api/v1/contacts/${contact.id}`, { firstName: 'Changed' });
    problem(write, 503, 'SERVICE_UNAVAILABLE');
    const b = new PortalClient(h);
    const page = await b.get(`/portal/${website.slug}/register?invitation=${invitation.code}`);
    assert.equal(page.statusCode, 503, 'not "no such portal"');
    assert.match(textOf(page.body), /cannot reach its database/);
    assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive');
    await new Promise((r) => setTimeout(r, 1500)); // the worker polls into the outage meanwhile

    await proxy.restore();
    await eventually(
      async () => (await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 || undefined,
      10_000,
      'ready again',
    );
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/contacts/${contact.id}`)).firstName, contact.firstName);
    const landed = await new PortalClient(h).get(
      `/portal/${website.slug}/register?invitation=${invitation.code}`,
      {
        follow: true,
      },
    );
    assert.equal(landed.statusCode, 200);
    // The job worker is still alive: a send queued now is delivered.
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/send`), 202);
    await eventually(
      async () =>
        ok<{ items: Json[] }>(await h.api('GET', `/api/v1/emails?invitationId=${invitation.id}`)).items.find(
          (e) => e.status === 'sent',
        ),
      10_000,
      'the invitation email sent after the outage',
    );
  });
});

describe('a SQLite file locked by another writer beyond the busy timeout [sqlite]', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('sqlite');
  });
  after(() => h?.close());

  it('answers 503 SERVICE_UNAVAILABLE, changes nothing, and works once the lock is gone', async () => {
    const website = await makeWebsite(h);
    const file = h.deps.config.databaseUrl.slice('sqlite:'.length);
    const other = new Sqlite(path.resolve(file));
    other.pragma('busy_timeout = 0');
    other.exec('begin immediate');
    try {
      const res = await h.api('PATCH', `/api/v1/websites/${website.id}`, { name: 'Renamed' });
      problem(res, 503, 'SERVICE_UNAVAILABLE');
      assert.equal(res.headers['retry-after'], '5');
    } finally {
      other.exec('rollback');
      other.close();
    }
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/websites/${website.id}`)).name, website.name);
    assert.equal(
      ok<Json>(await h.api('PATCH', `/api/v1/websites/${website.id}`, { name: 'Renamed' })).name,
      'Renamed',
    );
  });
});
