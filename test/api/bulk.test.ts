import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { BULK_BATCH, FIRST_BULK_BATCH } from '../../src/modules/invitations/invitation.bulk.ts';
import { type Json, makeSignedInContactsBulk, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

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
});

/** A trigger that refuses the website's invitations past `limit` (a database failure mid-call). */
async function refuseInvitationsAfter(h: Harness, websiteId: string, limit: number) {
  const db = h.deps.db;
  if (h.dialect === 'postgres') {
    await sql
      .raw(`create function refuse_invitations() returns trigger language plpgsql as $$
        begin
          if new.website_id = '${websiteId}'
            and (select count(*) from invitations where website_id = new.website_id) >= ${limit} then
            raise exception 'refused by the test';
          end if;
          return new;
        end $$`)
      .execute(db);
    await sql
      .raw(
        'create trigger refuse_invitations before insert on invitations for each row execute function refuse_invitations()',
      )
      .execute(db);
    return {
      drop: async () => {
        await sql.raw('drop trigger refuse_invitations on invitations').execute(db);
        await sql.raw('drop function refuse_invitations').execute(db);
      },
    };
  }
  await sql
    .raw(`create trigger refuse_invitations before insert on invitations
      when new.website_id = '${websiteId}'
        and (select count(*) from invitations where website_id = new.website_id) >= ${limit}
      begin select raise(abort, 'refused by the test'); end`)
    .execute(db);
  return { drop: async () => void (await sql.raw('drop trigger refuse_invitations').execute(db)) };
}
