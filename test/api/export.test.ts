import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { csvRecords } from '../../src/csv.ts';
import { makeContact, makeInvitation, makeWebsite, ok, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('CSV exports of contacts and invitations', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const rows = async (text: string) => {
    const out: string[][] = [];
    for await (const r of csvRecords(text)) out.push(r.values);
    return out;
  };

  it('exports every contact a search finds, every page, with formula cells neutralised', async () => {
    const tag = rand();
    const hostile = ['=HYPERLINK("http://evil")', '+1+1', '-2', '@SUM(A1)', `Quote "and", comma ${tag}`];
    for (const firstName of hostile) await makeContact(h, { firstName, lastName: `Export${tag}` });
    for (let i = 0; i < 510; i++)
      ok(
        await h.api('POST', '/api/v1/contacts', {
          firstName: `Bulk${i}`,
          lastName: `Many${tag}`,
          email: `m${i}.${tag}@example.test`,
        }),
        201,
      );
    const res = await h.api('GET', `/api/v1/contacts/export?search=Export${tag}`);
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/csv/);
    assert.match(res.headers['content-disposition'] as string, /attachment; filename="contacts\.csv"/);
    const [header, ...data] = await rows(res.body);
    assert.deepEqual(header?.slice(0, 4), ['id', 'firstName', 'lastName', 'email']);
    const names = data.map((r) => r[1]).sort();
    assert.deepEqual(
      names,
      ["'+1+1", "'-2", '\'=HYPERLINK("http://evil")', "'@SUM(A1)", `Quote "and", comma ${tag}`].sort(),
    );
    const all = await rows((await h.api('GET', `/api/v1/contacts/export?search=Many${tag}`)).body);
    assert.equal(all.length - 1, 510, 'every page');
    assert.equal(new Set(all.slice(1).map((r) => r[0])).size, 510, 'each once');
  });

  it('exports invitations with the list filters, never a code; needs an API key', async () => {
    const website = await makeWebsite(h);
    const contact = await makeContact(h);
    const inv = await makeInvitation(h, {
      type: 'single',
      websiteId: website.id,
      invitedContactIds: [contact.id],
    });
    const res = await h.api('GET', `/api/v1/invitations/export?websiteId=${website.id}`);
    assert.equal(res.statusCode, 200);
    const [header, ...data] = await rows(res.body);
    assert.ok(header?.includes('status'));
    assert.equal(data.length, 1);
    assert.equal(data[0]?.[0], inv.id);
    assert.equal(data[0]?.[header?.indexOf('invitedContactIds') ?? -1], contact.id);
    assert.ok(!res.body.includes(inv.code), 'no code');
    const none = await rows(
      (await h.api('GET', `/api/v1/invitations/export?websiteId=${website.id}&status=redeemed`)).body,
    );
    assert.equal(none.length, 1, 'the header only');
    const anonymous = await h.app.inject({ method: 'GET', url: '/api/v1/invitations/export' });
    assert.equal(anonymous.statusCode, 401);
    const bad = await h.api('GET', '/api/v1/invitations/export?status=nonsense');
    assert.equal(bad.statusCode, 400);
  });
});
