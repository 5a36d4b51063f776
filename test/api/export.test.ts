import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { csvRecords } from '../../src/csv.ts';
import { redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import {
  type Json,
  makeAccount,
  makeContact,
  makeInvitation,
  makeSignedInContact,
  makeWebsite,
  ok,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('CSV exports of contacts, invitations and redemptions', (dialect) => {
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

  it('lists and exports redemptions by website, invitation or contact, with the invitation and the contact', async () => {
    const website = await makeWebsite(h);
    const other = await makeWebsite(h);
    const redeem = async (siteId: string, firstName: string) => {
      const contact = await makeSignedInContact(h, { firstName });
      const inv = await makeInvitation(h, {
        type: 'single',
        websiteId: siteId,
        invitedContactIds: [contact.id],
      });
      await redeemInvitation(h.deps, {
        websiteId: siteId,
        code: inv.code,
        redeemer: { kind: 'contact', contactId: contact.id, method: 'signin' },
        ipAddress: '198.51.100.7',
        userAgent: 'test',
      });
      return { contact, inv };
    };
    const first = await redeem(website.id, '=cmd|calc');
    const second = await redeem(website.id, 'Grace');
    await redeem(other.id, 'Elsewhere');
    const listed = ok<Json>(await h.api('GET', `/api/v1/redemptions?websiteId=${website.id}`)).items;
    assert.deepEqual(
      listed.map((r: Json) => r.contactId),
      [second.contact.id, first.contact.id],
      'newest first, that website only',
    );
    const byContact = ok<Json>(await h.api('GET', `/api/v1/redemptions?contactId=${first.contact.id}`)).items;
    assert.deepEqual(
      byContact.map((r: Json) => r.invitationId),
      [first.inv.id],
    );
    const res = await h.api('GET', `/api/v1/redemptions/export?websiteId=${website.id}`);
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-disposition'] as string, /filename="redemptions\.csv"/);
    const [header, ...data] = await rows(res.body);
    const col = (name: string) => header?.indexOf(name) ?? -1;
    assert.equal(data.length, 2);
    const row = data.find((r) => r[col('contactId')] === first.contact.id) as string[];
    assert.equal(row[col('invitationName')], `'${first.inv.name}`, 'its default name starts with the name');
    assert.equal(row[col('firstName')], "'=cmd|calc", 'a formula cell is neutralised');
    assert.equal(row[col('email')], first.contact.email);
    assert.equal(row[col('method')], 'signin');
    assert.ok(!res.body.includes(first.inv.code), 'no code');
    assert.equal((await h.api('GET', '/api/v1/redemptions/export?contactId=nope')).statusCode, 400);
  });

  it('counts and lists contacts of an account, and exports them', async () => {
    const account = await makeAccount(h);
    const tag = rand();
    for (const n of [1, 2, 3])
      await makeContact(h, { firstName: `Member${n}`, lastName: tag, parentAccountId: account.id });
    await makeContact(h, { firstName: 'Outside', lastName: tag });
    assert.deepEqual(ok<Json>(await h.api('GET', `/api/v1/contacts/count?search=${tag}`)), { count: 4 });
    assert.deepEqual(ok<Json>(await h.api('GET', `/api/v1/contacts/count?accountId=${account.id}`)), {
      count: 3,
    });
    const listed = ok<Json>(await h.api('GET', `/api/v1/contacts?accountId=${account.id}&limit=2`));
    assert.equal(listed.items.length, 2);
    assert.ok(listed.nextCursor);
    const csv = await rows((await h.api('GET', `/api/v1/contacts/export?accountId=${account.id}`)).body);
    assert.equal(csv.length - 1, 3);
  });
});
