import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { portable } from './portable.ts';

/**
 * One delivery for every kind of email. Frozen once landed.
 *
 * - `emails.kind` names what the email is (`invitation`, `confirm-email`, `reset-password`,
 *   `confirm-registration`, …) and so which message source composes it; `emails.source_id` is the
 *   record of that kind it is composed from, when the kind needs one beyond the invitation and the
 *   contact (the contact token, or the held registration).
 * - `emails.job_id` is the delivery job that may send the email now: the one that claimed it, or the
 *   retry it was handed to. Null: any job that lists it (the emails queued before this migration).
 * - The queued jobs of the two old deliveries become the one job, `email.deliver`: the invitation
 *   jobs keep their payload; a portal email's job gives its email the kind and source it carried.
 *   An old portal email with no job left is kind `portal` (no source composes it again).
 */
type Row = { id: string; type: string; payload: unknown; status: string };

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k.schema
    .alterTable('emails')
    .addColumn('kind', 'varchar(40)', (c) => c.notNull().defaultTo('invitation'))
    .execute();
  await k.schema.alterTable('emails').addColumn('source_id', t.id).execute();
  await k.schema.alterTable('emails').addColumn('job_id', t.id).execute();
  await k.updateTable('emails').set({ kind: 'portal' }).where('invitation_id', 'is', null).execute();

  const jobs: Row[] = await k
    .selectFrom('jobs')
    .select(['id', 'type', 'payload', 'status'])
    .where('type', '=', 'contact-email.deliver')
    .execute();
  for (const job of jobs) {
    const p = (typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload) as {
      emailId?: string;
      tokenId?: string;
      purpose?: string;
    };
    if (!p?.emailId || !p.tokenId || !p.purpose) continue;
    await k
      .updateTable('emails')
      .set({ kind: p.purpose.slice(0, 40), source_id: p.tokenId.slice(0, 36) })
      .where('id', '=', p.emailId)
      .execute();
    if (job.status === 'queued' || job.status === 'running')
      await k
        .updateTable('jobs')
        .set({ type: 'email.deliver', payload: JSON.stringify({ emailIds: [p.emailId] }) })
        .where('id', '=', job.id)
        .execute();
  }
  await k
    .updateTable('jobs')
    .set({ type: 'email.deliver' })
    .where('type', '=', 'invitation-email.deliver')
    .where('status', 'in', ['queued', 'running'])
    .execute();
}

/**
 * Back to the two deliveries: a waiting job of portal emails becomes one `contact-email.deliver` job
 * per email (with the token its email names), every other waiting job an invitation delivery.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  const waiting: Row[] = await k
    .selectFrom('jobs')
    .select(['id', 'type', 'payload', 'status'])
    .where('type', '=', 'email.deliver')
    .where('status', 'in', ['queued', 'running'])
    .execute();
  for (const job of waiting) {
    const p = (typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload) as {
      emailIds?: string[];
    };
    const portal: { id: string; kind: string; source_id: string | null }[] =
      p?.emailIds && p.emailIds.length > 0
        ? await k
            .selectFrom('emails')
            .select(['id', 'kind', 'source_id'])
            .where('id', 'in', p.emailIds)
            .where('invitation_id', 'is', null)
            .where('source_id', 'is not', null)
            .execute()
        : [];
    if (portal.length === 0) {
      await k
        .updateTable('jobs')
        .set({ type: 'invitation-email.deliver' })
        .where('id', '=', job.id)
        .execute();
      continue;
    }
    const [first, ...rest] = portal;
    const contactJob = (e: { id: string; kind: string; source_id: string | null }) =>
      JSON.stringify({ emailId: e.id, tokenId: e.source_id, purpose: e.kind });
    await k
      .updateTable('jobs')
      .set({ type: 'contact-email.deliver', payload: contactJob(first as (typeof portal)[number]) })
      .where('id', '=', job.id)
      .execute();
    for (const e of rest) {
      const copy = await k.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
      await k
        .insertInto('jobs')
        .values({ ...copy, id: randomUUID(), payload: contactJob(e) })
        .execute();
    }
  }
  for (const c of ['job_id', 'source_id', 'kind'])
    await k.schema.alterTable('emails').dropColumn(c).execute();
}
