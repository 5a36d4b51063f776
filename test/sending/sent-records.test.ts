import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { newId } from '../../src/ids.ts';
import {
  findEmail,
  insertEmails,
  recordSentMany,
  type SentRecord,
} from '../../src/modules/emails/email.repository.ts';
import {
  createTestDatabase,
  describeUnlessSkipped,
  dialectsUnderTest,
  type TestDatabase,
} from '../support/databases.ts';

/** What the stored copy of a message may hold, which a naive encoding of the values would break. */
const awkward = (i: number) =>
  `<p title="a \\"quoted\\" {brace}, NULL">Ünïcødé ${i} 'single' \\ back\\slash</p>\r\n${'x'.repeat(3000)}`;

for (const { name, skip } of dialectsUnderTest()) {
  describeUnlessSkipped(`recording accepted messages [${name}]`, skip, () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    before(async () => {
      database = await createTestDatabase(name);
      handle = openDatabase(database.url, { poolSize: 2 });
      await migrateToLatest(handle.db);
    });
    after(async () => {
      await handle?.close();
      await database?.drop();
    });

    it('records every message of a group larger than one statement takes, each with its own copy', async () => {
      const at = '2026-11-29T10:00:00.000Z';
      const ids = Array.from({ length: 37 }, () => newId());
      await insertEmails(
        handle.db,
        ids.map((id) => ({
          id,
          kind: 'invitation',
          sourceId: null,
          jobId: null,
          invitationId: null,
          contactId: null,
          to: 'someone@example.test',
          from: 'portal@example.test',
          subject: null,
          html: null,
          text: null,
          status: 'sending' as const,
          attempts: 0,
          lastError: 'earlier trouble',
          messageId: `${id}@admit.test`,
          sentAt: null,
          createdAt: at,
          updatedAt: at,
        })),
      );
      const records: SentRecord[] = ids.map((id, i) => ({
        id,
        attempts: (i % 3) + 1,
        subject: `Invitation ${i} "to" {you}`,
        html: awkward(i),
        text: `text ${i} \\ "`,
        sentAt: new Date(Date.parse(at) + i * 1000).toISOString(),
      }));
      await recordSentMany(handle.db, records);

      for (const r of records) {
        const e = await findEmail(handle.db, r.id);
        assert.ok(e, `email ${r.id} exists`);
        assert.deepEqual(
          {
            status: e.status,
            attempts: e.attempts,
            subject: e.subject,
            html: e.html,
            text: e.text,
            lastError: e.lastError,
            sentAt: e.sentAt,
            updatedAt: e.updatedAt,
          },
          {
            status: 'sent',
            attempts: r.attempts,
            subject: r.subject,
            html: r.html,
            text: r.text,
            lastError: null,
            sentAt: r.sentAt,
            updatedAt: r.sentAt,
          },
        );
      }
    });
  });
}
