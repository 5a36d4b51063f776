import { type Kysely, sql } from 'kysely';
import { portable } from './portable.ts';

/**
 * Workflows that run, events for integrators, webhook endpoints (SPEC 7). Frozen once landed.
 *
 * - `workflows.website_id`: the website a workflow is limited to (null: any); `event_types`: the
 *   integrator events that start it on their contact.
 * - `workflow_versions`: every saved version of a workflow's name and steps; a run keeps the version
 *   it started with. Each existing workflow gets its current version.
 * - `workflow_runs`: a run on one contact. `next_step` is the index of the first step not done; a
 *   step's change and the move of `next_step` past it commit together, so no step happens twice.
 * - `workflow_run_log`: a line per step outcome (and per run-level change: cancelled, retried).
 * - `events`: what happened, for integrators, written in the transaction of the change.
 * - `webhook_endpoints`: the secret is derived from the server key and `secret_version`, never
 *   stored; during a rotation's grace period `previous_secret_version` signs as well.
 * - `webhook_deliveries`: one event to one endpoint; `webhook_attempts`: every try.
 * - Waiting `workflow.run` jobs of redemptions (payload workflowId, contactId, invitationId) become
 *   runs; their jobs then name the run.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  await k.schema
    .alterTable('workflows')
    .addColumn('website_id', t.id, (c) => c.references('websites.id'))
    .execute();
  await k.schema
    .alterTable('workflows')
    .addColumn('event_types', t.json, (c) => c.notNull().defaultTo('[]'))
    .execute();

  await k.schema
    .createTable('workflow_versions')
    .addColumn('workflow_id', t.id, (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('steps', t.json, (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_versions__pk', ['workflow_id', 'version'])
    .execute();
  const now = new Date().toISOString();
  const workflows: { id: string; name: string; version: number; steps: unknown }[] = await k
    .selectFrom('workflows')
    .select(['id', 'name', 'version', 'steps'])
    .execute();
  for (const w of workflows)
    await k
      .insertInto('workflow_versions')
      .values({
        workflow_id: w.id,
        version: w.version,
        name: w.name,
        steps: typeof w.steps === 'string' ? w.steps : JSON.stringify(w.steps),
        created_at: now,
      })
      .execute();

  await k.schema
    .createTable('workflow_runs')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('workflow_id', t.id, (c) => c.notNull())
    .addColumn('workflow_version', 'integer', (c) => c.notNull())
    .addColumn('trigger', 'varchar(20)', (c) =>
      c.notNull().check(sql`trigger in ('redemption', 'manual', 'event')`),
    )
    .addColumn('contact_id', t.id, (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('invitation_id', t.id, (c) => c.references('invitations.id').onDelete('set null'))
    .addColumn('website_id', t.id, (c) => c.references('websites.id').onDelete('set null'))
    .addColumn('event_id', t.id)
    .addColumn('status', 'varchar(20)', (c) =>
      c.notNull().check(sql`status in ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')`),
    )
    .addColumn('next_step', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0)) // of the step at next_step
    .addColumn('wait_until', t.instant)
    .addColumn('last_error', 'text')
    .addColumn('created_by', t.id) // the user of a manual run
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .addColumn('finished_at', t.instant)
    .addForeignKeyConstraint(
      'workflow_runs__workflow_version',
      ['workflow_id', 'workflow_version'],
      'workflow_versions',
      ['workflow_id', 'version'],
    )
    .execute();
  for (const column of ['workflow_id', 'contact_id', 'invitation_id'])
    await k.schema
      .createIndex(`workflow_runs__${column}`)
      .on('workflow_runs')
      .columns([column, 'id'])
      .execute();
  // An event starts a workflow on its contact once, however often its publication runs.
  await k.schema
    .createIndex('workflow_runs__event_id_workflow_id')
    .on('workflow_runs')
    .columns(['event_id', 'workflow_id'])
    .unique()
    .where(sql.ref('event_id'), 'is not', null)
    .execute();

  await k.schema
    .createTable('workflow_run_log')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('run_id', t.id, (c) => c.notNull().references('workflow_runs.id').onDelete('cascade'))
    .addColumn('step_index', 'integer') // null: a line about the run itself
    .addColumn('step_type', 'varchar(40)')
    .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('at', t.instant, (c) => c.notNull())
    .execute();
  await k.schema
    .createIndex('workflow_run_log__run_id')
    .on('workflow_run_log')
    .columns(['run_id', 'id'])
    .execute();

  await k.schema
    .createTable('events')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('type', 'varchar(60)', (c) => c.notNull())
    .addColumn('data', t.json, (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .execute();
  await k.schema.createIndex('events__created_at').on('events').column('created_at').execute();

  await k.schema
    .createTable('webhook_endpoints')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('url', 'varchar(2000)', (c) => c.notNull())
    .addColumn('description', 'varchar(500)')
    .addColumn('event_types', t.json, (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull().defaultTo(t.trueValue))
    .addColumn('secret_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('previous_secret_version', 'integer')
    .addColumn('previous_secret_until', t.instant)
    .addColumn('disabled_reason', 'text')
    .addColumn('failing_since', t.instant) // the first failed attempt since the last success
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();

  await k.schema
    .createTable('webhook_deliveries')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('endpoint_id', t.id, (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
    .addColumn('event_id', t.id, (c) => c.notNull().references('events.id').onDelete('cascade'))
    .addColumn('event_type', 'varchar(60)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) =>
      c.notNull().check(sql`status in ('pending', 'succeeded', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.instant)
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .addUniqueConstraint('webhook_deliveries__endpoint_id_event_id', ['endpoint_id', 'event_id'])
    .execute();
  await k.schema
    .createIndex('webhook_deliveries__endpoint_id_id')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'id'])
    .execute();
  await k.schema
    .createIndex('webhook_deliveries__event_id')
    .on('webhook_deliveries')
    .column('event_id')
    .execute();

  await k.schema
    .createTable('webhook_attempts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('delivery_id', t.id, (c) =>
      c.notNull().references('webhook_deliveries.id').onDelete('cascade'),
    )
    .addColumn('status_code', 'integer') // null: no answer (refused, timed out, blocked)
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('response', 'text') // the first KB of the answer's body
    .addColumn('error', 'text')
    .addColumn('at', t.instant, (c) => c.notNull())
    .execute();
  await k.schema
    .createIndex('webhook_attempts__delivery_id')
    .on('webhook_attempts')
    .columns(['delivery_id', 'id'])
    .execute();

  const waiting: { id: string; payload: unknown; created_at: unknown }[] = await k
    .selectFrom('jobs')
    .select(['id', 'payload', 'created_at'])
    .where('type', '=', 'workflow.run')
    .where('status', 'in', ['queued', 'running'])
    .execute();
  for (const job of waiting) {
    const p = (typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload) as {
      workflowId?: string;
      contactId?: string;
      invitationId?: string;
    };
    const workflow = p?.workflowId
      ? await k
          .selectFrom('workflows')
          .select(['id', 'version'])
          .where('id', '=', p.workflowId)
          .executeTakeFirst()
      : undefined;
    const contact = p?.contactId
      ? await k.selectFrom('contacts').select('id').where('id', '=', p.contactId).executeTakeFirst()
      : undefined;
    const invitation = p?.invitationId
      ? await k
          .selectFrom('invitations')
          .select(['id', 'website_id'])
          .where('id', '=', p.invitationId)
          .executeTakeFirst()
      : undefined;
    if (!workflow || !contact) {
      await k
        .updateTable('jobs')
        .set({ status: 'dead', last_error: 'Its workflow or contact is gone' })
        .where('id', '=', job.id)
        .execute();
      continue;
    }
    await k
      .insertInto('workflow_runs')
      .values({
        id: job.id,
        workflow_id: workflow.id,
        workflow_version: workflow.version,
        trigger: 'redemption',
        contact_id: contact.id,
        invitation_id: invitation?.id ?? null,
        website_id: invitation?.website_id ?? null,
        status: 'queued',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await k
      .updateTable('jobs')
      .set({ payload: JSON.stringify({ runId: job.id }) })
      .where('id', '=', job.id)
      .execute();
  }
}

/** Back to redemptions' bare `workflow.run` jobs; runs, events and webhooks are dropped. */
export async function down(db: Kysely<unknown>): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations use an untyped Kysely
  const k = db as Kysely<any>;
  const waiting: { id: string; payload: unknown }[] = await k
    .selectFrom('jobs')
    .select(['id', 'payload'])
    .where('type', '=', 'workflow.run')
    .where('status', 'in', ['queued', 'running'])
    .execute();
  for (const job of waiting) {
    const p = (typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload) as { runId?: string };
    const run = p?.runId
      ? await k
          .selectFrom('workflow_runs')
          .select(['workflow_id', 'contact_id', 'invitation_id'])
          .where('id', '=', p.runId)
          .executeTakeFirst()
      : undefined;
    await k
      .updateTable('jobs')
      .set(
        run
          ? {
              payload: JSON.stringify({
                workflowId: run.workflow_id,
                contactId: run.contact_id,
                invitationId: run.invitation_id,
              }),
            }
          : { status: 'dead', last_error: 'Its run is gone' },
      )
      .where('id', '=', job.id)
      .execute();
  }
  for (const table of [
    'webhook_attempts',
    'webhook_deliveries',
    'webhook_endpoints',
    'events',
    'workflow_run_log',
    'workflow_runs',
    'workflow_versions',
  ])
    await k.schema.dropTable(table).execute();
  await k.schema.alterTable('workflows').dropColumn('event_types').execute();
  await k.schema.alterTable('workflows').dropColumn('website_id').execute();
}
