import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { newId } from '../../src/ids.ts';
import { jobHandlers } from '../../src/jobs/registry.ts';
import { RetryLater } from '../../src/jobs/worker.ts';
import { SYNC_IMPORT_LINES } from '../../src/modules/contacts/contact.import.ts';
import { OPERATION_BATCH } from '../../src/modules/invitations/invitation.operation.ts';
import { SYNC_BULK_IDS } from '../../src/modules/invitations/invitation.schemas.ts';
import { OPERATION_JOB } from '../../src/modules/operations/operation.service.ts';
import { eventually } from '../support/eventually.ts';
import {
  type Json,
  makeContact,
  makeSignedInContactsBulk,
  makeWebRole,
  makeWebsite,
  ok,
  problem,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { refuseWrites } from '../support/refusals.ts';

onBothDatabases('bulk operations', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true, jobBackoffMs: 100 });
  });
  after(() => h.close());

  /** Follows an operation's Location until it is done; returns it. */
  const finished = async (res: { statusCode: number; headers: Json; json(): Json }): Promise<Json> => {
    assert.equal(res.statusCode, 202, JSON.stringify(res.json()));
    const location = res.headers.location as string;
    assert.equal(location, `/api/v1/operations/${res.json().id}`);
    return eventually(
      async () => {
        const op = ok<Json>(await h.api('GET', location));
        return op.status === 'succeeded' || op.status === 'failed' ? op : undefined;
      },
      60_000,
      'the operation to finish',
    );
  };
  const invitationsOf = async (websiteId: string) =>
    (
      await h.deps.db
        .selectFrom('invitations as i')
        .innerJoin('invitation_invited_contacts as c', 'c.invitation_id', 'i.id')
        .select('c.contact_id')
        .where('i.website_id', '=', websiteId)
        .execute()
    ).map((r) => r.contact_id);

  it('a CSV of more lines than one request imports runs as an operation: counts, failures by line, each contact once', async () => {
    const tag = rand();
    const existing = await makeContact(h, { email: `known.${tag}@example.test` });
    const lines = ['firstName,lastName,email'];
    for (let i = 0; i < SYNC_IMPORT_LINES + 5; i++) lines.push(`Bulk,${i},bulk${i}.${tag}@example.test`);
    lines.push('Broken,Email,not-an-email'); // line SYNC_IMPORT_LINES + 7
    lines.push(`Known,Person,${existing.email}`); // skipped
    lines.push(',NoFirstName,nofirst.${tag}@example.test'); // failed
    const op = await finished(
      await h.api('POST', '/api/v1/contacts/import', `${lines.join('\n')}\n`, { 'content-type': 'text/csv' }),
    );
    assert.equal(op.kind, 'contacts.import');
    assert.equal(op.status, 'succeeded');
    assert.deepEqual(
      [op.total, op.done, op.created, op.skipped, op.failed],
      [SYNC_IMPORT_LINES + 8, SYNC_IMPORT_LINES + 8, SYNC_IMPORT_LINES + 5, 1, 2],
    );
    assert.deepEqual(
      op.failures.map((f: Json) => [f.position, f.code]),
      [
        [SYNC_IMPORT_LINES + 7, 'VALIDATION_FAILED'],
        [SYNC_IMPORT_LINES + 9, 'VALIDATION_FAILED'],
      ],
    );
    assert.match(op.failures[0].detail, /email/);
    assert.ok(op.finishedAt);
    const found = await h.deps.db
      .selectFrom('contacts')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('first_name', '=', 'Bulk')
      .where('email', 'like', `%.${tag}@example.test`)
      .executeTakeFirstOrThrow();
    assert.equal(Number(found.n), SYNC_IMPORT_LINES + 5);
  });

  it('Prefer: respond-async makes a small import an operation; without it the answer is the report', async () => {
    const tag = rand();
    const csv = `firstName,lastName,email\nA,B,a.${tag}@example.test\n`;
    const op = await finished(
      await h.api('POST', '/api/v1/contacts/import', csv, {
        'content-type': 'text/csv',
        prefer: 'respond-async',
      }),
    );
    assert.deepEqual([op.created, op.failed], [1, 0]);
    const again = ok<Json>(
      await h.api('POST', '/api/v1/contacts/import', csv, { 'content-type': 'text/csv' }),
    );
    assert.deepEqual([again.created, again.skipped], [0, 1]);
  });

  it('invites every contact matching a search, and only those, each once', async () => {
    const website = await makeWebsite(h);
    const ids = await makeSignedInContactsBulk(h, OPERATION_BATCH[dialect] * 2 + 7);
    const lastName = (await h.api('GET', `/api/v1/contacts/${ids[0]}`)).json().lastName as string;
    const other = await makeContact(h);
    const op = await finished(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        matching: { search: lastName },
      }),
    );
    assert.equal(op.kind, 'invitations.bulk');
    assert.deepEqual(
      [op.status, op.total, op.done, op.created, op.failed],
      ['succeeded', ids.length, ids.length, ids.length, 0],
    );
    const invited = await invitationsOf(website.id);
    assert.equal(invited.length, ids.length);
    assert.deepEqual(new Set(invited), new Set(ids));
    assert.ok(!invited.includes(other.id));
  });

  it(`more than ${SYNC_BULK_IDS} contactIds: an operation whose failures name each missing contact`, async () => {
    const website = await makeWebsite(h);
    const real = await makeSignedInContactsBulk(h, 3);
    const missing = Array.from({ length: SYNC_BULK_IDS }, () => newId());
    const op = await finished(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        contactIds: [...real, ...missing],
      }),
    );
    assert.deepEqual(
      [op.total, op.created, op.failed, op.moreFailures],
      [SYNC_BULK_IDS + 3, 3, SYNC_BULK_IDS, true],
    );
    assert.deepEqual(op.failures[0], {
      position: 4,
      item: missing[0],
      code: 'NOT_FOUND',
      detail: `No contact with id ${missing[0]}.`,
    });
    const page = ok<Json>(
      await h.api('GET', `/api/v1/operations/${op.id}/failures?after=${SYNC_BULK_IDS}&limit=10`),
    );
    assert.deepEqual(
      page.items.map((f: Json) => f.position),
      [SYNC_BULK_IDS + 1, SYNC_BULK_IDS + 2, SYNC_BULK_IDS + 3],
    );
    assert.equal(page.nextAfter, null);
    assert.deepEqual((await invitationsOf(website.id)).sort(), [...real].sort());
  });

  it('a CSV imports the new contacts and invites them with the known ones; failures name the lines', async () => {
    const website = await makeWebsite(h);
    const tag = rand();
    const known = await makeContact(h, { email: `csv.known.${tag}@example.test` });
    const csv = [
      'firstName,lastName,email',
      `New,One,csv.new1.${tag}@example.test`,
      `Known,Again,${known.email}`,
      'Bad,Line,nope',
      `New,Two,csv.new2.${tag}@example.test`,
      `New,One,csv.new1.${tag}@example.test`,
    ].join('\n');
    const op = await finished(
      await h.api('POST', `/api/v1/invitations/bulk/csv?websiteId=${website.id}`, csv, {
        'content-type': 'text/csv',
      }),
    );
    assert.deepEqual([op.status, op.total, op.created, op.failed], ['succeeded', 5, 3, 2]);
    assert.deepEqual(
      op.failures.map((f: Json) => [f.position, f.code]),
      [
        [4, 'VALIDATION_FAILED'],
        [6, 'DUPLICATE'],
      ],
    );
    const invited = await invitationsOf(website.id);
    assert.equal(invited.length, 3);
    assert.ok(invited.includes(known.id));
  });

  it('a CSV by email invites the contacts it finds and names the emails it does not', async () => {
    const website = await makeWebsite(h);
    const a = await makeContact(h);
    const csv = `email,note\n${a.email},hello\nnobody.${rand()}@example.test,x\n`;
    const op = await finished(
      await h.api('POST', `/api/v1/invitations/bulk/csv?websiteId=${website.id}`, csv, {
        'content-type': 'text/csv',
      }),
    );
    assert.deepEqual([op.created, op.failed], [1, 1]);
    assert.deepEqual([op.failures[0].position, op.failures[0].code], [3, 'NOT_FOUND']);
    assert.deepEqual(await invitationsOf(website.id), [a.id]);
  });

  it('refuses wrong options at once, before any operation exists', async () => {
    const before = ok<Json>(await h.api('GET', '/api/v1/operations?limit=500')).items.length;
    problem(
      await h.api('POST', '/api/v1/invitations/bulk', { websiteId: newId(), matching: {} }),
      400,
      'VALIDATION_FAILED',
    );
    const website = await makeWebsite(h);
    problem(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        contactIds: [newId()],
        matching: {},
      }),
      400,
      'VALIDATION_FAILED',
    );
    problem(
      await h.api('POST', `/api/v1/invitations/bulk/csv?websiteId=${website.id}`, 'name,phone\nx,y\n', {
        'content-type': 'text/csv',
      }),
      400,
      'VALIDATION_FAILED',
    );
    problem(await h.api('GET', `/api/v1/operations/${newId()}`), 404, 'NOT_FOUND');
    assert.equal(ok<Json>(await h.api('GET', '/api/v1/operations?limit=500')).items.length, before);
  });

  it('a chunk the database refuses is tried again and the operation resumes where it stopped: each contact invited once', async () => {
    const website = await makeWebsite(h);
    const ids = await makeSignedInContactsBulk(h, OPERATION_BATCH[dialect] * 3);
    const trigger = await refuseWrites(h, `refuse_${rand()}`, {
      table: 'invitations',
      on: 'insert',
      condition: `new.website_id = '${website.id}' and (select count(*) from invitations where website_id = '${website.id}') >= ${OPERATION_BATCH[dialect] + 10}`,
    });
    const res = await h.api(
      'POST',
      '/api/v1/invitations/bulk',
      {
        websiteId: website.id,
        contactIds: ids,
      },
      { prefer: 'respond-async' },
    );
    assert.equal(res.statusCode, 202);
    const id = res.json().id as string;
    const stuck = await eventually(
      async () => {
        const op = ok<Json>(await h.api('GET', `/api/v1/operations/${id}`));
        const jobs = await h.deps.db
          .selectFrom('jobs')
          .select(['attempts', 'payload'])
          .where('type', '=', OPERATION_JOB)
          .execute();
        const job = jobs.find((j) => JSON.stringify(j.payload).includes(id));
        return (job?.attempts ?? 0) >= 2 ? op : undefined;
      },
      20_000,
      'the refused chunk to be tried twice',
    );
    assert.deepEqual([stuck.status, stuck.done], ['running', OPERATION_BATCH[dialect]]);
    await trigger.drop();
    const op = await finished(res);
    assert.deepEqual([op.status, op.done, op.created, op.failed], ['succeeded', ids.length, ids.length, 0]);
    const invited = await invitationsOf(website.id);
    assert.equal(invited.length, ids.length);
    assert.equal(new Set(invited).size, ids.length);
  });

  it('two runners of one operation at once invite each contact once', async () => {
    const website = await makeWebsite(h);
    const ids = await makeSignedInContactsBulk(h, OPERATION_BATCH[dialect] * 4);
    await h.worker?.stop();
    try {
      const res = await h.api(
        'POST',
        '/api/v1/invitations/bulk',
        { websiteId: website.id, contactIds: ids },
        { prefer: 'respond-async' },
      );
      const id = res.json().id as string;
      const run = jobHandlers().get(OPERATION_JOB);
      assert.ok(run);
      const job = {
        id: 'j',
        type: OPERATION_JOB,
        payload: { operationId: id },
        attempts: 1,
        maxAttempts: 10,
        runAt: '',
      };
      const runs = await Promise.allSettled([run(job, h.deps), run(job, h.deps)]);
      // A run that finds a chunk done by the other steps back (its job is tried again later).
      for (const r of runs)
        if (r.status === 'rejected') assert.ok(r.reason instanceof RetryLater, String(r.reason));
      assert.ok(runs.some((r) => r.status === 'fulfilled'));
      const op = ok<Json>(await h.api('GET', `/api/v1/operations/${id}`));
      assert.deepEqual([op.status, op.done, op.created], ['succeeded', ids.length, ids.length]);
      const invited = await invitationsOf(website.id);
      assert.equal(invited.length, ids.length);
    } finally {
      h.worker?.start();
    }
  });

  it('an operation whose web role is deleted stops as failed with the reason', async () => {
    const website = await makeWebsite(h);
    const role = await makeWebRole(h, website.id);
    const ids = await makeSignedInContactsBulk(h, 3);
    await h.worker?.stop();
    try {
      const res = await h.api(
        'POST',
        '/api/v1/invitations/bulk',
        { websiteId: website.id, contactIds: ids, webRoleIds: [role.id] },
        { prefer: 'respond-async' },
      );
      const id = res.json().id as string;
      assert.equal(res.json().status, 'queued');
      const deleted = await h.api('DELETE', `/api/v1/web-roles/${role.id}`);
      assert.equal(deleted.statusCode, 204, deleted.body);
      const run = jobHandlers().get(OPERATION_JOB);
      assert.ok(run);
      await run(
        {
          id: 'j',
          type: OPERATION_JOB,
          payload: { operationId: id },
          attempts: 1,
          maxAttempts: 10,
          runAt: '',
        },
        h.deps,
      );
      const op = ok<Json>(await h.api('GET', `/api/v1/operations/${id}`));
      assert.equal(op.status, 'failed');
      assert.match(op.error, /role/i);
      assert.deepEqual([op.done, op.created], [0, 0]);
      assert.deepEqual(await invitationsOf(website.id), []);
    } finally {
      h.worker?.start();
    }
  });

  it('hostile CSVs: a cell too long to store fails its line only; too many lines are refused at once', async () => {
    const website = await makeWebsite(h);
    const a = await makeContact(h);
    const long = 'x'.repeat(5000);
    const op = await finished(
      await h.api(
        'POST',
        `/api/v1/invitations/bulk/csv?websiteId=${website.id}`,
        `email\n${a.email}\n${long}\n`,
        {
          'content-type': 'text/csv',
        },
      ),
    );
    assert.deepEqual([op.status, op.created, op.failed], ['succeeded', 1, 1]);
    assert.equal(op.failures[0].item.length, 400);
    const before = ok<Json>(await h.api('GET', '/api/v1/operations?limit=500')).items.length;
    const huge = `email\n${'x@example.test\n'.repeat(200_001)}`;
    const refused = problem(
      await h.api('POST', `/api/v1/invitations/bulk/csv?websiteId=${website.id}`, huge, {
        'content-type': 'text/csv',
      }),
      400,
      'VALIDATION_FAILED',
    );
    assert.match(refused.detail, /more than 200,000 lines/);
    assert.equal(ok<Json>(await h.api('GET', '/api/v1/operations?limit=500')).items.length, before);
    problem(
      await h.api('GET', `/api/v1/operations/${op.id}/failures?after=2147483648`),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('a CSV invite takes one web role, a CRM export by contactid, and names the contacts it could not send to', async () => {
    const website = await makeWebsite(h);
    const role = await makeWebRole(h, website.id);
    const withEmail = await makeContact(h);
    const crm = `contactid,firstname,lastname,emailaddress1\n${withEmail.id},${withEmail.firstName},${withEmail.lastName},${withEmail.email}\n`;
    const byId = await finished(
      await h.api('POST', `/api/v1/invitations/bulk/csv?websiteId=${website.id}&webRoleIds=${role.id}`, crm, {
        'content-type': 'text/csv',
      }),
    );
    assert.deepEqual([byId.status, byId.created, byId.failed], ['succeeded', 1, 0]);
    const invitation = ok<Json>(await h.api('GET', `/api/v1/invitations?websiteId=${website.id}&limit=1`))
      .items[0];
    assert.deepEqual(invitation.webRoleIds, [role.id]);

    const other = await makeWebsite(h);
    const noEmail = await finished(
      await h.api(
        'POST',
        `/api/v1/invitations/bulk/csv?websiteId=${other.id}&send=true`,
        `firstName,lastName\nNo,Email${rand()}\n`,
        {
          'content-type': 'text/csv',
        },
      ),
    );
    assert.deepEqual([noEmail.created, noEmail.queued, noEmail.failed], [1, 0, 1]);
    assert.deepEqual([noEmail.failures[0].position, noEmail.failures[0].code], [2, 'NO_PRIMARY_EMAIL']);
  });

  it('only the respond-async preference makes a call an operation, and the answer says it was applied', async () => {
    const csv = `firstName,lastName,email\nP,Q,p.${rand()}@example.test\n`;
    const sync = await h.api('POST', '/api/v1/contacts/import', csv, {
      'content-type': 'text/csv',
      prefer: 'respond-async-never',
    });
    assert.equal(sync.statusCode, 200);
    const async = await h.api('POST', '/api/v1/contacts/import', csv.replace('p.', 'q.'), {
      'content-type': 'text/csv',
      prefer: 'wait=10, respond-async',
    });
    assert.equal(async.statusCode, 202);
    assert.equal(async.headers['preference-applied'], 'respond-async');
    await finished(async);
  });
});
