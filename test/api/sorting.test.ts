import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Json, makeContact, makeWebsite, ok, problem, rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('lists sorted by name or age, page by page', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  /** Every item of a list, following its cursors a few at a time. */
  const all = async (path: string) => {
    const items: Json[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = ok<Json>(
        await h.api('GET', `${path}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
      );
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  };

  it('contacts by name (last, then first, ignoring case), oldest first, newest first', async () => {
    const tag = rand();
    const people = [
      ['ada', 'Zeta'],
      ['Bob', 'alpha'],
      ['Cleo', 'Alpha'],
      ['Dan', 'Mu'],
      ['Eve', 'mu'],
    ];
    const made: Json[] = [];
    for (const [firstName, lastName] of people)
      made.push(await makeContact(h, { firstName, lastName: `${lastName}${tag}` }));
    const names = (items: Json[]) => items.map((c) => `${c.firstName} ${c.lastName.replace(tag, '')}`);
    assert.deepEqual(names(await all(`/api/v1/contacts?search=${tag}&sort=name`)), [
      'Bob alpha',
      'Cleo Alpha',
      'Dan Mu',
      'Eve mu',
      'ada Zeta',
    ]);
    assert.deepEqual(
      (await all(`/api/v1/contacts?search=${tag}&sort=oldest`)).map((c) => c.id),
      made.map((c) => c.id),
    );
    assert.deepEqual(
      (await all(`/api/v1/contacts?search=${tag}`)).map((c) => c.id),
      made.map((c) => c.id).reverse(),
      'newest first by default',
    );
    const byAge = ok<Json>(await h.api('GET', `/api/v1/contacts?search=${tag}&limit=2`));
    problem(
      await h.api('GET', `/api/v1/contacts?search=${tag}&sort=name&cursor=${byAge.nextCursor}`),
      400,
      'INVALID_CURSOR',
    );
    problem(await h.api('GET', '/api/v1/contacts?sort=sideways'), 400, 'VALIDATION_FAILED');
  });

  it('invitations by name and oldest first; the export follows the sort', async () => {
    const website = await makeWebsite(h);
    const names = ['beta', 'Alpha', 'gamma', 'Delta', 'alpha'];
    const made: Json[] = [];
    for (const name of names)
      made.push(
        ok<Json>(
          await h.api('POST', '/api/v1/invitations', {
            type: 'single',
            websiteId: website.id,
            name,
            invitedContactIds: [(await makeContact(h)).id],
          }),
          201,
        ),
      );
    const sorted = await all(`/api/v1/invitations?websiteId=${website.id}&sort=name`);
    assert.deepEqual(
      sorted.map((i) => i.name.toLowerCase()),
      ['alpha', 'alpha', 'beta', 'delta', 'gamma'],
    );
    assert.deepEqual(
      (await all(`/api/v1/invitations?websiteId=${website.id}&sort=oldest`)).map((i) => i.id),
      made.map((i) => i.id),
    );
    const csv = (await h.api('GET', `/api/v1/invitations/export?websiteId=${website.id}&sort=name`)).body;
    assert.deepEqual(
      csv
        .trim()
        .split('\r\n')
        .slice(1)
        .map((line) => line.split(',')[1]?.toLowerCase()),
      ['alpha', 'alpha', 'beta', 'delta', 'gamma'],
    );
  });
});
