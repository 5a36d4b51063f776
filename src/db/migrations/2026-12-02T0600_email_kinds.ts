import type { Kysely } from 'kysely';
import { portable } from './portable.ts';

/**
 * One delivery for every kind of email. Frozen once landed.
 *
 * - `emails.kind` names what the email is (`invitation`, `confirm-email`, `reset-password`,
 *   `confirm-registration`, …) and so which message source composes it; `emails.source_id` is the
 *   record of that kind it is composed from, when the kind needs one beyond the invitation and the
 *   contact (the contact token, or the held registration).
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

export async function down(db: Kysely<unknown>): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k
    .updateTable('jobs')
    .set({ type: 'invitation-email.deliver' })
    .where('type', '=', 'email.deliver')
    .execute();
  await k.schema.alterTable('emails').dropColumn('source_id').execute();
  await k.schema.alterTable('emails').dropColumn('kind').execute();
}
