import assert from 'node:assert/strict';
import { it } from 'node:test';
import { migrateToLatest, migrator } from '../../src/db/migrate.ts';
import { newId } from '../../src/ids.ts';
import { databaseMigratedTo, describeUnlessSkipped, dialectsUnderTest } from '../support/databases.ts';

/**
 * An upgrade while redemptions' workflow jobs wait: each becomes a run (at the workflow's version,
 * trigger redemption) whose job names it, so the workflow runs once the release that runs them
 * starts; and back.
 */
for (const { name, skip } of dialectsUnderTest()) {
  describeUnlessSkipped(`the workflow runs migration [${name}]`, skip, () => {
    const handle = databaseMigratedTo(name, '2026-12-02T0600_email_kinds');

    it('turns waiting workflow.run jobs into runs, and back', async () => {
      // biome-ignore lint/suspicious/noExplicitAny: the tables as they were before the migration
      const db = handle().db as any;
      const at = '2026-12-02T12:00:00.000Z';
      const pg = name === 'postgres';
      const [workflowId, contactId, websiteId, jobId, orphanJob] = [
        newId(),
        newId(),
        newId(),
        newId(),
        newId(),
      ];
      await db
        .insertInto('workflows')
        .values({
          id: workflowId,
          key: null,
          name: 'W',
          active: pg ? true : 1,
          version: 3,
          steps: '[]',
          created_at: at,
          updated_at: at,
        })
        .execute();
      await db
        .insertInto('websites')
        .values({
          id: websiteId,
          name: 'S',
          slug: `s-${jobId.slice(-6)}`,
          settings: '{}',
          created_at: at,
          updated_at: at,
        })
        .execute();
      await db
        .insertInto('contacts')
        .values({
          id: contactId,
          first_name: 'A',
          last_name: 'B',
          login_enabled: pg ? false : 0,
          email_confirmed: pg ? false : 0,
          created_at: at,
          updated_at: at,
        })
        .execute();
      const job = (id: string, payload: unknown) => ({
        id,
        type: 'workflow.run',
        payload: JSON.stringify(payload),
        status: 'queued',
        run_at: at,
        attempts: 0,
        max_attempts: 10,
        created_at: at,
        updated_at: at,
      });
      await db
        .insertInto('jobs')
        .values([
          job(jobId, { workflowId, contactId, invitationId: newId() }),
          job(orphanJob, { workflowId: newId(), contactId }),
        ])
        .execute();

      await migrateToLatest(handle().db);
      const run = await db.selectFrom('workflow_runs').selectAll().where('id', '=', jobId).executeTakeFirst();
      assert.deepEqual(
        [run.workflow_id, run.workflow_version, run.contact_id, run.trigger, run.status, run.invitation_id],
        [workflowId, 3, contactId, 'redemption', 'queued', null],
      );
      const jobs = await db.selectFrom('jobs').select(['id', 'status', 'payload']).execute();
      const byId = new Map(jobs.map((j: { id: string }) => [j.id, j]));
      const payload = (j: { payload: unknown }) =>
        typeof j.payload === 'string' ? JSON.parse(j.payload) : j.payload;
      assert.deepEqual(payload(byId.get(jobId) as { payload: unknown }), { runId: jobId });
      assert.equal(
        (byId.get(orphanJob) as { status: string }).status,
        'dead',
        'a job whose workflow is gone',
      );

      const { error } = await migrator(handle().db).migrateTo('2026-12-02T0600_email_kinds');
      if (error) throw error;
      const back = await db.selectFrom('jobs').select('payload').where('id', '=', jobId).executeTakeFirst();
      assert.deepEqual(payload(back), { workflowId, contactId, invitationId: null });
      await migrateToLatest(handle().db);
    });
  });
}
