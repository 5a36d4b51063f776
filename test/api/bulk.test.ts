import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { BULK_BATCH, FIRST_BULK_BATCH } from '../../src/modules/invitations/invitation.bulk.ts';
import { markSent } from '../../src/modules/invitations/invitation.repository.ts';
import { type Json, makeSignedInContactsBulk, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { refuseWrites } from '../support/refusals.ts';

const missing = '01936f4e-0000-7000-8000-00000000f00d';

onBothDatabases('bulk invitations in batches', (dialect) => {
  const batch = BULK_BATCH[dialect];
  /** The contacts of the first two batches: the first is smaller, so the first emails go out sooner. */
  const twoBatches = FIRST_BULK_BATCH + batch;
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const invitationsOf = async (websiteId: string) =>
    Number(
      (
        await h.deps.db
          .selectFrom('invitations')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('website_id', '=', websiteId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('invites more contacts than one batch holds: every one, in the order given, duplicates once', async () => {
    const website = await makeWebsite(h);
    const ids = await makeSignedInContactsBulk(h, batch * 2 + 500);
    const res = ok<Json>(
      await h.api('POST', '/api/v1/invitations/bulk', {
        websiteId: website.id,
        contactIds: [...ids, missing, ids[0]],
      }),
      201,
    );
    assert.deepEqual([res.created, res.queued, res.rejected], [ids.length, 0, 1]);
    assert.deepEqual(
      res.items.map((i: Json) => i.contactId),
      [...ids, missing],
    );
    assert.equal(await invitationsOf(website.id), ids.length);
  });

  it('a batch the database refuses: the batches before stay, that batch and the rest are reported, nothing half-written', async () => {
    const website = await makeWebsite(h);
    const ids = await makeSignedInContactsBulk(h, twoBatches + 300);
    const trigger = await refuseInvitationsAfter(h, website.id, twoBatches);
    try {
      const res = ok<Json>(
        await h.api('POST', '/api/v1/invitations/bulk', { websiteId: website.id, contactIds: ids }),
        201,
      );
      assert.deepEqual([res.created, res.rejected], [twoBatches, 300]);
      const rejected = res.items.filter((i: Json) => i.status === 'rejected');
      assert.deepEqual(
        rejected.map((i: Json) => i.contactId),
        ids.slice(twoBatches),
      );
      assert.ok(rejected.every((i: Json) => i.code === 'INTERNAL' && /Try this one again/.test(i.detail)));
      assert.equal(await invitationsOf(website.id), twoBatches);
      const audit = await h.deps.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('action', '=', 'invitation.created')
        .where('entity_id', 'in', (eb) =>
          eb.selectFrom('invitations').select('id').where('website_id', '=', website.id),
        )
        .executeTakeFirstOrThrow();
      assert.equal(Number(audit.n), twoBatches, 'an audit event per invitation that exists, no more');
    } finally {
      await trigger.drop();
    }
  });

  // Every email accepted marks its invitation sent (`markSent`, per delivery job). PostgreSQL can
  // keep the new version of each row on its page, with no new index entries, only if the bulk
  // insert left room there (migration 2026-11-30T0400, decision 0021). SQLite has no such versions.
  if (dialect === 'postgres')
    it('marking freshly bulk-created invitations sent rewrites no index entries', async () => {
      const website = await makeWebsite(h);
      const ids = await makeSignedInContactsBulk(h, 400);
      const res = ok<Json>(
        await h.api('POST', '/api/v1/invitations/bulk', { websiteId: website.id, contactIds: ids }),
        201,
      );
      const invitationIds = res.items.map((i: Json) => i.invitationId as string);
      const heapOnly = await h.deps.db.transaction().execute(async (trx) => {
        await markSent(trx, invitationIds, new Date().toISOString());
        const { rows } = await sql<{ n: string }>`
        select pg_stat_get_xact_tuples_hot_updated('invitations'::regclass) as n`.execute(trx);
        return Number(rows[0]?.n);
      });
      assert.equal(heapOnly, invitationIds.length, 'every invitation updated in place on its page');
    });
});

/** A trigger that refuses the website's invitations past `limit` (a database failure mid-call). */
const refuseInvitationsAfter = (h: Harness, websiteId: string, limit: number) =>
  refuseWrites(h, 'refuse_invitations', {
    table: 'invitations',
    on: 'insert',
    condition: `new.website_id = '${websiteId}'
      and (select count(*) from invitations where website_id = new.website_id) >= ${limit}`,
  });
