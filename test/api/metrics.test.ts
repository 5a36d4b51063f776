import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { makeSingle, ok, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { land, registration } from '../support/portal.ts';
import { PortalClient } from '../support/portal-client.ts';

const TOKEN = `metrics-${rand(16)}`;

onBothDatabases('GET /metrics and the server root', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { env: { ADMIT_METRICS: TOKEN } });
  });
  after(() => h.close());

  const scrape = async (authorization?: string) =>
    h.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

  it('answers only a scraper with the token', async () => {
    for (const header of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
      const res = await scrape(header);
      assert.equal(res.statusCode, 401, String(header));
      assert.ok(!res.body.includes(TOKEN));
    }
  });

  it('reports requests by route, jobs, emails, redemptions, mail and pool in the Prometheus text format', async () => {
    const { website, invitation, contact } = await makeSingle(h, { send: true });
    ok(await h.api('GET', `/api/v1/invitations/${invitation.id}`));
    const b = new PortalClient(h);
    await land(b, website.slug, invitation.code);
    assert.equal(
      (await b.post(`/portal/${website.slug}/register`, registration(contact.email))).statusCode,
      303,
    );
    const res = await scrape(`Bearer ${TOKEN}`);
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    const families = new Map(parsePrometheusTextFormat(res.body).map((f) => [f.name, f]));
    const samples = (name: string) => families.get(name)?.metrics ?? [];

    const requests = samples('admit_http_requests_total');
    assert.equal(families.get('admit_http_requests_total')?.type, 'COUNTER');
    const byRoute = requests.find(
      (m) =>
        m.labels?.route === '/api/v1/invitations/:id' &&
        m.labels?.method === 'GET' &&
        m.labels?.status === '200',
    );
    assert.ok(Number(byRoute?.value) >= 1, 'the route pattern, not the path with its id');
    assert.ok(!res.body.includes(invitation.id), 'no ids in labels');
    assert.equal(families.get('admit_http_request_duration_seconds')?.type, 'HISTOGRAM');

    const jobs = samples('admit_jobs');
    assert.ok(
      jobs.some((m) => m.labels?.type === 'email.deliver' && Number(m.value) >= 1),
      JSON.stringify(jobs),
    );
    const emails = samples('admit_emails');
    assert.ok(
      emails.some((m) => m.labels?.kind === 'invitation' && Number(m.value) >= 1),
      JSON.stringify(emails),
    );
    assert.equal(samples('admit_mail_paused')[0]?.value, '0');
    const redeemed = samples('admit_redemptions_total').find((m) => m.labels?.outcome === 'redeemed');
    assert.ok(Number(redeemed?.value) >= 1, 'the redemption counted');
    if (dialect === 'postgres') assert.ok(samples('admit_db_pool_connections').length === 2);
    else assert.equal(families.has('admit_db_pool_connections'), false);
    assert.ok(families.has('admit_process_cpu_seconds_total'), "the runtime's own metrics");
  });

  it('the root opens the console', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/admin');
  });
});

onBothDatabases('GET /metrics off by default', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('is not there', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 404);
  });
});
