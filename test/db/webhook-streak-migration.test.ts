import assert from 'node:assert/strict';
import { it } from 'node:test';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { newId } from '../../src/ids.ts';
import { databaseMigratedTo, describeUnlessSkipped, dialectsUnderTest } from '../support/databases.ts';

/**
 * An upgrade with a failing webhook endpoint: its latest failed attempt becomes `last_failed_at`,
 * so its streak goes on rather than restarting at its next failure; an endpoint not failing has
 * none.
 */
for (const { name, skip } of dialectsUnderTest()) {
  describeUnlessSkipped(`the webhook failure streak migration [${name}]`, skip, () => {
    const handle = databaseMigratedTo(name, '2026-12-02T1400_workflows_events');

    it("keeps a failing endpoint's streak going from its latest attempt", async () => {
      // biome-ignore lint/suspicious/noExplicitAny: the tables as they were before the migration
      const db = handle().db as any;
      const [failing, healthy, eventId, deliveryId] = [newId(), newId(), newId(), newId()];
      const endpoint = (id: string, failingSince: string | null) => ({
        id,
        url: `https://example.com/${id}`,
        event_types: '["*"]',
        failing_since: failingSince,
        created_at: '2026-12-01T00:00:00.000Z',
        updated_at: '2026-12-01T00:00:00.000Z',
      });
      await db
        .insertInto('webhook_endpoints')
        .values([endpoint(failing, '2026-12-01T00:00:00.000Z'), endpoint(healthy, null)])
        .execute();
      await db
        .insertInto('events')
        .values({
          id: eventId,
          type: 'invitation.created',
          data: '{}',
          created_at: '2026-12-01T00:00:00.000Z',
        })
        .execute();
      await db
        .insertInto('webhook_deliveries')
        .values({
          id: deliveryId,
          endpoint_id: failing,
          event_id: eventId,
          event_type: 'invitation.created',
          status: 'pending',
          attempts: 2,
          created_at: '2026-12-01T00:00:00.000Z',
          updated_at: '2026-12-01T00:00:00.000Z',
        })
        .execute();
      await db
        .insertInto('webhook_attempts')
        .values(
          ['2026-12-01T00:00:00.000Z', '2026-12-02T09:30:00.000Z'].map((at) => ({
            id: newId(),
            delivery_id: deliveryId,
            status_code: 503,
            duration_ms: 5,
            at,
          })),
        )
        .execute();

      await migrateToLatest(handle().db);
      const rows = await db.selectFrom('webhook_endpoints').select(['id', 'last_failed_at']).execute();
      const of = (id: string) => rows.find((r: { id: string }) => r.id === id)?.last_failed_at;
      assert.equal(new Date(of(failing)).toISOString(), '2026-12-02T09:30:00.000Z');
      assert.equal(of(healthy), null);
    });
  });
}
