import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import type { Json } from '../support/factories.ts';
import { onBothDatabases, TEST_API_KEY } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';
import { startServeProcess } from '../support/serve-process.ts';

const run = promisify(execFile);
const MAIN = path.resolve('src/main.ts');
const COUNT = 6000;

onBothDatabases('a bulk operation through kill -9 and the CLI', (dialect) => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  let handle: DatabaseHandle;

  before(async () => {
    db = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'admit-operation-crash-'));
    env = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      DATA_DIR: dir,
      ADMIT_SECRET: 'operation-crash-secret-0123456789abcdefghijkl',
      ADMIT_BOOTSTRAP_API_KEY: TEST_API_KEY,
      ADMIT_JOB_LEASE_SECONDS: '2',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    child?.kill('SIGKILL');
    await handle?.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => `http://127.0.0.1:${env.PORT}/api/v1`;
  const api = async (method: string, p: string, body?: unknown): Promise<Json> => {
    const r = await fetch(`${base()}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { httpStatus: r.status, ...((await r.json()) as Json) };
  };
  const startServe = () => startServeProcess(env);
  const invitedContacts = async (websiteId: string) =>
    (
      await handle.db
        .selectFrom('invitations as i')
        .innerJoin('invitation_invited_contacts as c', 'c.invitation_id', 'i.id')
        .select('c.contact_id')
        .where('i.website_id', '=', websiteId)
        .execute()
    ).map((r) => r.contact_id);

  it('killed in the middle of an operation, the restarted server finishes it: each contact invited once', async () => {
    child = await startServe();
    handle = openDatabase(db.url);
    const website = await api('POST', '/websites', { name: 'Crash', slug: 'crash' });
    const csv = path.join(dir, 'contacts.csv');
    writeFileSync(
      csv,
      [
        'firstName,lastName,email',
        ...Array.from({ length: COUNT }, (_, i) => `Op,${i},op${i}@example.test`),
      ].join('\n'),
    );
    assert.match(
      (await run(process.execPath, ['--import', 'tsx', MAIN, 'contacts', 'import', csv], { env })).stdout,
      new RegExp(`${COUNT} created`),
    );

    const started = await api('POST', '/invitations/bulk', {
      websiteId: website.id,
      matching: { search: '' },
    });
    assert.equal(started.httpStatus, 202);
    const midway = await eventually(
      async () => {
        const op = await handle.db
          .selectFrom('operations')
          .select(['done', 'total'])
          .where('id', '=', started.id)
          .executeTakeFirstOrThrow();
        return op.done > 0 && op.done < op.total ? op : undefined;
      },
      30_000,
      'the operation to be under way',
    );
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    const atKill = await handle.db
      .selectFrom('operations')
      .select(['done', 'status'])
      .where('id', '=', started.id)
      .executeTakeFirstOrThrow();
    assert.ok(
      atKill.done < COUNT,
      `killed in the middle (${atKill.done} of ${COUNT}, first seen at ${midway.done})`,
    );
    assert.equal(
      (await invitedContacts(website.id)).length,
      atKill.done,
      'what was done is exactly what is recorded',
    );

    child = await startServe();
    const op = await eventually(
      async () => {
        const o = await api('GET', `/operations/${started.id}`);
        return o.status === 'succeeded' ? o : undefined;
      },
      60_000,
      'the operation to finish after the restart',
    );
    assert.deepEqual([op.done, op.created, op.failed], [COUNT, COUNT, 0]);
    const invited = await invitedContacts(website.id);
    assert.equal(invited.length, COUNT);
    assert.equal(new Set(invited).size, COUNT);

    const shown = await run(process.execPath, ['--import', 'tsx', MAIN, 'operations', 'show', started.id], {
      env,
    });
    assert.match(shown.stdout, new RegExp(`succeeded, ${COUNT} of ${COUNT} done`));
  });

  it('admit invite --csv runs an operation in the server and shows its progress and failures', async () => {
    const website = await api('POST', '/websites', { name: 'Cli', slug: 'cli' });
    const csv = path.join(dir, 'emails.csv');
    writeFileSync(csv, 'email\nop1@example.test\nop2@example.test\nnobody@example.test\n');
    const invited = await run(
      process.execPath,
      ['--import', 'tsx', MAIN, 'invite', '--website', website.id, '--csv', csv],
      { env },
    ).catch((err: { code: number; stdout: string }) => err);
    assert.equal((invited as { code?: number }).code, 1, 'a line failed: exit 1');
    assert.match(invited.stdout, /Done: 2 created, 1 not invited\./);
    assert.match(invited.stdout, /4 nobody@example\.test: No contact has this email\./);
    assert.equal((await invitedContacts(website.id)).length, 2);
  });

  it('admit invite takes the slug and names the console shows, and reports every skipped line with its reason', async () => {
    const website = await api('POST', '/websites', { name: 'Named', slug: 'named-portal' });
    await api('POST', `/websites/${website.id}/web-roles`, { name: 'Partner' });
    await api('POST', '/accounts', { name: 'Contoso Ltd' });
    const csv = path.join(dir, 'named.csv');
    writeFileSync(csv, 'email,firstName\nop1@example.test,One\n,No email\n');
    const cli = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', MAIN, 'invite', ...args], { env }).catch(
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
    const invited = await cli([
      '--website',
      'named-portal',
      '--csv',
      csv,
      '--roles',
      'partner',
      '--account',
      'Contoso Ltd',
    ]);
    assert.match(invited.stdout, /Done: 1 created, 1 not invited\./);
    assert.match(
      invited.stdout,
      /3: The line names no contactId or email\./,
      'the line without an email is reported',
    );
    const [inv] = (await api('GET', `/invitations?websiteId=${website.id}`)).items;
    assert.equal(inv.webRoleIds.length, 1);
    assert.ok(inv.assignToAccountId);
    const wrong = await cli(['--website', 'nope', '--csv', csv]);
    assert.equal((wrong as { code?: number }).code, 1);
    assert.match((wrong as { stderr: string }).stderr, /No website has the slug or id "nope"/);
    const noRole = await cli(['--website', 'named-portal', '--csv', csv, '--roles', 'Gold']);
    assert.match((noRole as { stderr: string }).stderr, /no web role "Gold"; its roles: Partner/);
  });

  it('admit invite --contacts takes emails, warns of open invitations, and --skip-invited skips them', async () => {
    await api('POST', '/websites', { name: 'Again', slug: 'again-portal' });
    const cli = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', MAIN, 'invite', '--website', 'again-portal', ...args], {
        env,
      }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    const first = await cli(['--contacts', 'op1@example.test']);
    assert.match(first.stdout, /Done: 1 created, 0 not invited\./);
    assert.doesNotMatch(first.stdout, /already/);
    const second = await cli(['--contacts', 'OP1@example.test,op2@example.test']);
    assert.match(
      second.stdout,
      /1 of these contacts already holds an open invitation to this website: they are invited again/,
    );
    assert.match(second.stdout, /Done: 2 created, 0 not invited\./);
    const third = await cli(['--contacts', 'op1@example.test,op2@example.test', '--skip-invited']);
    assert.equal((third as { code?: number }).code, 1, 'skipped contacts: exit 1');
    assert.match(third.stdout, /2 of these contacts already hold an open invitation .*: they are skipped\./);
    assert.match(third.stdout, /Done: 0 created, 2 not invited\./);
    assert.match(third.stdout, /op1@example\.test|Skipped: already holds the open invitation/);
    const unknown = await cli(['--contacts', 'nobody@example.test']);
    assert.match((unknown as { stderr: string }).stderr, /No contact has the email nobody@example\.test\./);
  });

  it('admit contacts import lists every skipped and failed line with its reason', async () => {
    const csv = path.join(dir, 'again.csv');
    writeFileSync(
      csv,
      'firstName,lastName,email\nOne,Again,op1@example.test\nNew,Person,new.person@example.test\n,Nameless,x@example.test\n',
    );
    const imported = await run(process.execPath, ['--import', 'tsx', MAIN, 'contacts', 'import', csv], {
      env,
    }).catch((err: { code: number; stdout: string }) => err);
    assert.equal((imported as { code?: number }).code, 1, 'a line failed');
    assert.match(imported.stdout, /1 created, 1 skipped \(email already known\), 1 failed\./);
    assert.match(
      imported.stdout,
      /line 2: skipped: \/email A contact with this email already exists\. \(contact [0-9a-f-]{36}\)/,
    );
    assert.match(imported.stdout, /line 4: failed: \/firstName/);
  });
});
