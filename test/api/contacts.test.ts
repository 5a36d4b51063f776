import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import {
  type Json,
  makeAccount,
  makeContact,
  makeInvitation,
  makeWebRole,
  makeWebsite,
  ok,
  problem,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('contacts and accounts', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('creates, reads, edits and deletes a contact', async () => {
    const w = await makeWebsite(h);
    const role = await makeWebRole(h, w.id);
    const account = await makeAccount(h);
    const c = await makeContact(h, {
      email2: 'second@example.test',
      parentAccountId: account.id,
      webRoleIds: [role.id],
    });
    assert.equal(c.parentAccountId, account.id);
    assert.deepEqual(c.webRoleIds, [role.id]);
    assert.equal(c.loginEnabled, false);
    assert.equal('passwordHash' in c, false);
    assert.deepEqual(ok(await h.api('GET', `/api/v1/contacts/${c.id}`)), c);
    const edited = ok<Json>(
      await h.api('PATCH', `/api/v1/contacts/${c.id}`, { lastName: 'Byron', webRoleIds: [] }),
    );
    assert.equal(edited.lastName, 'Byron');
    assert.deepEqual(edited.webRoleIds, []);
    ok(await h.api('DELETE', `/api/v1/contacts/${c.id}`), 204);
    problem(await h.api('GET', `/api/v1/contacts/${c.id}`), 404, 'NOT_FOUND');
  });

  it('refuses references to records that do not exist', async () => {
    const missing = '01936f4e-0000-7000-8000-00000000dead';
    const res = problem(
      await h.api('POST', '/api/v1/contacts', {
        firstName: 'A',
        lastName: 'B',
        parentAccountId: missing,
        webRoleIds: [missing],
      }),
      400,
      'VALIDATION_FAILED',
    );
    assert.deepEqual(res.errors?.map((e) => e.path).sort(), ['/parentAccountId', '/webRoleIds/0']);
  });

  it('keeps usernames unique, whatever their case', async () => {
    const name = `User_${rand()}`;
    await makeContact(h, { username: name });
    problem(
      await h.api('POST', '/api/v1/contacts', {
        firstName: 'A',
        lastName: 'B',
        username: name.toLowerCase(),
      }),
      409,
      'USERNAME_TAKEN',
    );
  });

  it('marks a changed primary email unconfirmed', async () => {
    const c = await makeContact(h);
    await h.deps.db.updateTable('contacts').set({ email_confirmed: 1 }).where('id', '=', c.id).execute();
    assert.equal(
      ok<Json>(await h.api('PATCH', `/api/v1/contacts/${c.id}`, { firstName: 'Same' })).emailConfirmed,
      true,
    );
    assert.equal(
      ok<Json>(await h.api('PATCH', `/api/v1/contacts/${c.id}`, { email: 'new@example.test' }))
        .emailConfirmed,
      false,
    );
  });

  it('searches by name and primary email, case-insensitively, with wildcards taken literally', async () => {
    const tag = rand();
    const a = await makeContact(h, {
      firstName: `Grace${tag}`,
      lastName: 'Hopper',
      email: `g.${tag}@navy.test`,
    });
    await makeContact(h, { firstName: `Alan${tag}`, lastName: 'Turing', email: `a.${tag}@bletchley.test` });
    const byName = ok<Json>(
      await h.api('GET', `/api/v1/contacts?search=${encodeURIComponent(`grace${tag} hop`)}`),
    );
    assert.deepEqual(
      byName.items.map((c: Json) => c.id),
      [a.id],
    );
    const byEmail = ok<Json>(await h.api('GET', `/api/v1/contacts?search=${tag}%40NAVY`));
    assert.deepEqual(
      byEmail.items.map((c: Json) => c.id),
      [a.id],
    );
    const wildcard = ok<Json>(await h.api('GET', `/api/v1/contacts?search=${encodeURIComponent(`${tag}%`)}`));
    assert.equal(wildcard.items.length, 0);
  });

  it('refuses to delete a contact an invitation refers to', async () => {
    const w = await makeWebsite(h);
    const c = await makeContact(h);
    await makeInvitation(h, { type: 'single', websiteId: w.id, invitedContactIds: [c.id] });
    problem(await h.api('DELETE', `/api/v1/contacts/${c.id}`), 409, 'IN_USE');
  });

  it('imports a CSV and reports every line', async () => {
    const account = await makeAccount(h);
    const tag = rand();
    const existing = await makeContact(h, { email: `exists.${tag}@example.test` });
    const csv = [
      'First Name,last_name,Email,email2,parentAccountId',
      `Ann,Smith,ann.${tag}@example.test,,${account.id}`,
      `Bob,Jones,not-an-email,,`,
      `,NoFirst,nf.${tag}@example.test,,`,
      `Cat,Dup,${existing.email.toUpperCase()},,`,
      `Dan,"Quoted, Name",dan.${tag}@example.test,d2.${tag}@example.test,`,
      `Eve,Acc,eve.${tag}@example.test,,01936f4e-0000-7000-8000-00000000dead`,
      `Fay,Again,ANN.${tag}@example.test,,`,
    ].join('\n');
    const report = ok<Json>(
      await h.api('POST', '/api/v1/contacts/import', csv, { 'content-type': 'text/csv' }),
    );
    assert.deepEqual(
      report.lines.map((l: Json) => [l.line, l.status]),
      [
        [2, 'created'],
        [3, 'failed'],
        [4, 'failed'],
        [5, 'skipped'],
        [6, 'created'],
        [7, 'failed'],
        [8, 'skipped'],
      ],
    );
    assert.deepEqual([report.created, report.skipped, report.failed], [2, 2, 3]);
    assert.equal(report.lines[1].errors[0].path, '/email');
    assert.equal(report.lines[2].errors[0].path, '/firstName');
    const dan = ok<Json>(await h.api('GET', `/api/v1/contacts/${report.lines[4].contactId}`));
    assert.equal(dan.lastName, 'Quoted, Name');
    assert.equal(dan.email2, `d2.${tag}@example.test`);
    const ann = ok<Json>(await h.api('GET', `/api/v1/contacts/${report.lines[0].contactId}`));
    assert.equal(ann.parentAccountId, account.id);
  });

  it('after a large import, PostgreSQL plans with the new row count at once', async () => {
    // Not a minute later, when autovacuum would: a bulk send right after an import otherwise read
    // the contacts by sequential scans (decision 0015).
    const tag = rand();
    const csv = `firstName,lastName,email\n${Array.from({ length: 1000 }, (_, i) => `P,${i},p${i}.${tag}@example.test`).join('\n')}`;
    const report = ok<Json>(
      await h.api('POST', '/api/v1/contacts/import', csv, { 'content-type': 'text/csv' }),
    );
    assert.equal(report.created, 1000);
    if (dialect === 'postgres') {
      const { rows } = await sql<{ n: number }>`
        select reltuples::int as n from pg_class where relname = 'contacts'`.execute(h.deps.db);
      assert.ok((rows[0]?.n ?? 0) >= 1000, `the planner counts ${rows[0]?.n} contacts`);
    }
  });

  it('refuses a CSV with unknown columns, or not sent as text/csv', async () => {
    const before = ok<Json>(await h.api('GET', '/api/v1/contacts?limit=500')).items.length;
    problem(
      await h.api('POST', '/api/v1/contacts/import', 'firstName,lastName,shoeSize\nA,B,9', {
        'content-type': 'text/csv',
      }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', '/api/v1/contacts/import', 'email\na@b.test', { 'content-type': 'text/csv' }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', '/api/v1/contacts/import', { firstName: 'A' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assert.equal(ok<Json>(await h.api('GET', '/api/v1/contacts?limit=500')).items.length, before);
  });

  it('manages accounts, refusing to delete one in use', async () => {
    const a = await makeAccount(h, `Contoso ${rand()}`);
    assert.equal(
      ok<Json>(await h.api('PATCH', `/api/v1/accounts/${a.id}`, { name: 'Fabrikam' })).name,
      'Fabrikam',
    );
    const found = ok<Json>(await h.api('GET', '/api/v1/accounts?search=fabri'));
    assert.ok(found.items.some((x: Json) => x.id === a.id));
    await makeContact(h, { parentAccountId: a.id });
    problem(await h.api('DELETE', `/api/v1/accounts/${a.id}`), 409, 'IN_USE');
    const free = await makeAccount(h);
    ok(await h.api('DELETE', `/api/v1/accounts/${free.id}`), 204);
    problem(await h.api('GET', `/api/v1/accounts/${free.id}`), 404, 'NOT_FOUND');
  });
});
