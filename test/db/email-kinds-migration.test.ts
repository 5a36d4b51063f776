import assert from 'node:assert/strict';
import { it } from 'node:test';
import { migrateToLatest, migrator } from '../../src/db/migrate.ts';
import { newId } from '../../src/ids.ts';
import { databaseMigratedTo, describeUnlessSkipped, dialectsUnderTest } from '../support/databases.ts';

/**
 * An upgrade while emails wait: the queued jobs of the two old deliveries become `email.deliver`
 * jobs, and a portal email gets the kind and token its old job carried, so it is still sent.
 */
for (const { name, skip } of dialectsUnderTest()) {
  describeUnlessSkipped(`the email kinds migration [${name}]`, skip, () => {
    const handle = databaseMigratedTo(name, '2026-12-02T0300_operations');

    it('turns waiting deliveries of both old kinds into the one delivery', async () => {
      // biome-ignore lint/suspicious/noExplicitAny: the tables as they were before the migration
      const db = handle().db as any;
      const at = '2026-12-02T05:00:00.000Z';
      const portalEmail = newId();
      const doneEmail = newId();
      const tokenId = newId();
      const email = (id: string, status: string) => ({
        id,
        invitation_id: null,
        contact_id: null,
        to_address: 'someone@example.test',
        from_address: 'portal@example.test',
        status,
        attempts: 0,
        message_id: `<${id}@example.test>`,
        created_at: at,
        updated_at: at,
      });
      await db
        .insertInto('emails')
        .values([email(portalEmail, 'pending'), email(doneEmail, 'sent')])
        .execute();
      const job = (type: string, payload: unknown, status: string) => ({
        id: newId(),
        type,
        payload: JSON.stringify(payload),
        status,
        run_at: at,
        attempts: 0,
        max_attempts: 10,
        created_at: at,
        updated_at: at,
      });
      const waiting = job(
        'contact-email.deliver',
        { emailId: portalEmail, tokenId, purpose: 'reset-password' },
        'queued',
      );
      const finished = job(
        'contact-email.deliver',
        { emailId: doneEmail, tokenId, purpose: 'confirm-email' },
        'succeeded',
      );
      const invitations = job('invitation-email.deliver', { emailIds: [newId()] }, 'queued');
      await db.insertInto('jobs').values([waiting, finished, invitations]).execute();

      await migrateToLatest(handle().db);

      const emails = await db
        .selectFrom('emails')
        .select(['id', 'kind', 'source_id'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        emails.map((e: { id: string; kind: string; source_id: string }) => [e.id, e.kind, e.source_id]),
        [
          [portalEmail, 'reset-password', tokenId],
          [doneEmail, 'confirm-email', tokenId],
        ].sort((a, b) => (a[0] as string).localeCompare(b[0] as string)),
      );
      const jobs = new Map(
        (await db.selectFrom('jobs').select(['id', 'type', 'payload']).execute()).map(
          (j: { id: string; type: string; payload: unknown }) => [
            j.id,
            [j.type, typeof j.payload === 'string' ? JSON.parse(j.payload) : j.payload],
          ],
        ),
      );
      assert.deepEqual(jobs.get(waiting.id), ['email.deliver', { emailIds: [portalEmail] }]);
      assert.deepEqual(jobs.get(finished.id), ['contact-email.deliver', JSON.parse(finished.payload)]);
      assert.deepEqual(jobs.get(invitations.id), ['email.deliver', JSON.parse(invitations.payload)]);

      // And back: the portal email's job is its own delivery again, with its token.
      const { error } = await migrator(handle().db).migrateTo('2026-12-02T0300_operations');
      if (error) throw error;
      const back = await db
        .selectFrom('jobs')
        .select(['type', 'payload'])
        .where('id', '=', waiting.id)
        .executeTakeFirst();
      assert.equal(back.type, 'contact-email.deliver');
      assert.deepEqual(typeof back.payload === 'string' ? JSON.parse(back.payload) : back.payload, {
        emailId: portalEmail,
        tokenId,
        purpose: 'reset-password',
      });
      const inv = await db
        .selectFrom('jobs')
        .select('type')
        .where('id', '=', invitations.id)
        .executeTakeFirst();
      assert.equal(inv.type, 'invitation-email.deliver');
      await migrateToLatest(handle().db);
    });
  });
}
