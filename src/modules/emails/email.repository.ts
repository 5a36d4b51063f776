import { CompiledQuery, type Selectable, sql } from 'kysely';
import { insertMany } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import { isPostgres } from '../../db/dialect.ts';
import type { EmailsTable } from '../../db/schema.ts';
import { instant } from '../../db/values.ts';
import { runWrites } from '../../db/write-batch.ts';

export type EmailStatus = EmailsTable['status'];

export interface Email {
  id: string;
  /** What the email is: `invitation`, `reset-password`, …; its message source composes it. */
  kind: string;
  /** The record of its kind it is composed from, when there is one beyond invitation and contact. */
  sourceId: string | null;
  /** The delivery job that may send it now (the one that claimed it, or its retry); null: any. */
  jobId: string | null;
  invitationId: string | null;
  contactId: string | null;
  to: string | null;
  from: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  status: EmailStatus;
  attempts: number;
  lastError: string | null;
  messageId: string;
  sentAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What an accepted email's event is made of (MessageSource.sentEvent). */
export type SentEmail = Pick<Email, 'id' | 'kind' | 'invitationId' | 'contactId' | 'to'> & { sentAt: string };

const toEmail = (r: Selectable<EmailsTable>): Email => ({
  id: r.id,
  kind: r.kind,
  sourceId: r.source_id,
  jobId: r.job_id,
  invitationId: r.invitation_id,
  contactId: r.contact_id,
  to: r.to_address,
  from: r.from_address,
  subject: r.subject,
  html: r.html,
  text: r.text,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  messageId: r.message_id,
  sentAt: instant(r.sent_at),
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

export async function insertEmails(conn: Conn, emails: readonly Email[]): Promise<void> {
  await insertMany(
    conn,
    'emails',
    {
      id: 'text',
      kind: 'text',
      source_id: 'text',
      job_id: 'text',
      invitation_id: 'text',
      contact_id: 'text',
      to_address: 'text',
      from_address: 'text',
      subject: 'text',
      html: 'text',
      text: 'text',
      status: 'text',
      attempts: 'int',
      last_error: 'text',
      message_id: 'text',
      sent_at: 'timestamptz',
      created_at: 'timestamptz',
      updated_at: 'timestamptz',
    },
    emails.map((e) => ({
      id: e.id,
      kind: e.kind,
      source_id: e.sourceId,
      job_id: e.jobId,
      invitation_id: e.invitationId,
      contact_id: e.contactId,
      to_address: e.to,
      from_address: e.from,
      subject: e.subject,
      html: e.html,
      text: e.text,
      status: e.status,
      attempts: e.attempts,
      last_error: e.lastError,
      message_id: e.messageId,
      sent_at: e.sentAt,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
    })),
  );
}

export async function findEmail(conn: Conn, id: string): Promise<Email | undefined> {
  const r = await conn.selectFrom('emails').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toEmail(r);
}

export async function findEmails(
  conn: Conn,
  q: { invitationId?: string; contactId?: string; status?: EmailStatus; before?: string; limit: number },
): Promise<Email[]> {
  let query = conn.selectFrom('emails').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.before) query = query.where('id', '<', q.before);
  if (q.invitationId) query = query.where('invitation_id', '=', q.invitationId);
  if (q.contactId) query = query.where('contact_id', '=', q.contactId);
  if (q.status) query = query.where('status', '=', q.status);
  return (await query.execute()).map(toEmail);
}

/** The emails of `kinds` sent in [from, to), without their bodies (what their events are made of). */
export async function findSentBetween(
  conn: Conn,
  kinds: readonly string[],
  from: string,
  to: string,
): Promise<SentEmail[]> {
  if (kinds.length === 0) return [];
  const rows = await conn
    .selectFrom('emails')
    .select(['id', 'kind', 'invitation_id', 'contact_id', 'to_address', 'sent_at'])
    .where('sent_at', '>=', from)
    .where('sent_at', '<', to)
    .where('kind', 'in', kinds)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    invitationId: r.invitation_id,
    contactId: r.contact_id,
    to: r.to_address,
    sentAt: instant(r.sent_at as string),
  }));
}

export async function setStatus(
  conn: Conn,
  ids: readonly string[],
  status: EmailStatus,
  now: string,
  lastError?: string,
): Promise<void> {
  if (ids.length === 0) return;
  await conn
    .updateTable('emails')
    .set({
      status,
      updated_at: now,
      ...(lastError === undefined ? {} : { last_error: lastError.slice(0, 2000) }),
    })
    .where('id', 'in', ids)
    .execute();
}

/** Records an attempt's outcome in one statement: the rendering as sent (code masked), status, error. */
export async function recordAttempt(
  conn: Conn,
  id: string,
  a: {
    status: EmailStatus;
    attempts: number;
    subject: string | null;
    html: string | null;
    text: string | null;
    lastError: string | null;
    sentAt: string | null;
    now: string;
  },
): Promise<void> {
  await conn
    .updateTable('emails')
    .set({
      status: a.status,
      attempts: a.attempts,
      subject: a.subject,
      html: a.html,
      text: a.text,
      last_error: a.lastError === null ? null : a.lastError.slice(0, 2000),
      sent_at: a.sentAt,
      updated_at: a.now,
    })
    .where('id', '=', id)
    .execute();
}

export interface SentRecord {
  id: string;
  attempts: number;
  subject: string;
  html: string;
  text: string;
  sentAt: string;
}

const RECORD_SENT_SQLITE = `update emails set status = 'sent', attempts = ?, subject = ?, html = ?, text = ?,
  last_error = null, sent_at = ?, updated_at = ? where id = ?`;

/** PostgreSQL: rows per statement of recordSentMany (a larger group takes more statements). */
const RECORD_SENT_ROWS_PG = 16;
const recordSentPgSql: string[] = [];

/**
 * The UPDATE of `n` accepted messages on PostgreSQL, joined to a VALUES list of one parameter per
 * value: one text per count (a handful, each prepared once per connection). Not arrays: a message's
 * HTML in a text[] parameter is escaped character by character by node-postgres and parsed back by
 * the server, which costs the main thread more than the rest of the record (decision 0021).
 */
function recordSentPg(n: number): string {
  let text = recordSentPgSql[n];
  if (text === undefined) {
    const rows = Array.from({ length: n }, (_, i) => {
      const p = (k: number) => `$${i * 6 + k}`;
      return `(${p(1)}::varchar, ${p(2)}::int, ${p(3)}::varchar, ${p(4)}::text, ${p(5)}::text, ${p(6)}::timestamptz)`;
    });
    text = `update emails set status = 'sent', attempts = v.attempts, subject = v.subject, html = v.html,
      text = v.text, last_error = null, sent_at = v.sent_at, updated_at = v.sent_at
      from (values ${rows.join(', ')}) as v(id, attempts, subject, html, text, sent_at)
      where emails.id = v.id`;
    recordSentPgSql[n] = text;
  }
  return text;
}

/**
 * Many accepted messages recorded `sent`, and `alongside` (the publication of their events), all or
 * nothing.
 * PostgreSQL: one UPDATE per RECORD_SENT_ROWS_PG, with `alongside` one statement of them all
 * (write-batch.ts): one round trip for the usual group; SQLite: the same UPDATE per row, in one
 * transaction.
 */
export async function recordSentMany(
  conn: Conn,
  rows: readonly SentRecord[],
  alongside: readonly CompiledQuery[] = [],
): Promise<void> {
  if (rows.length === 0) return;
  if (isPostgres(conn)) {
    const updates: CompiledQuery[] = [];
    for (let k = 0; k < rows.length; k += RECORD_SENT_ROWS_PG) {
      const group = rows.slice(k, k + RECORD_SENT_ROWS_PG);
      updates.push(
        CompiledQuery.raw(
          recordSentPg(group.length),
          group.flatMap((r) => [r.id, r.attempts, r.subject, r.html, r.text, r.sentAt]),
        ),
      );
    }
    if (alongside.length === 0) for (const q of updates) await conn.executeQuery(q);
    else await runWrites(conn, [...updates, ...alongside]);
    return;
  }
  // One SQL text for every row (prepared once, in the statement cache of database.ts), not a query
  // built per row by Kysely's builder, whose garbage a bulk send feels (decision 0021).
  const write = async (trx: Conn) => {
    for (const r of rows) {
      await trx.executeQuery(
        CompiledQuery.raw(RECORD_SENT_SQLITE, [
          r.attempts,
          r.subject,
          r.html,
          r.text,
          r.sentAt,
          r.sentAt,
          r.id,
        ]),
      );
    }
    for (const q of alongside) await trx.executeQuery(q);
  };
  if (conn.isTransaction) await write(conn);
  else await conn.transaction().execute(write);
}

/** The columns of an Email but its bodies (what delivery reads: it renders the bodies again). */
const HEAD_COLUMNS = [
  'id',
  'kind',
  'source_id',
  'job_id',
  'invitation_id',
  'contact_id',
  'to_address',
  'from_address',
  'subject',
  'status',
  'attempts',
  'last_error',
  'message_id',
  'sent_at',
  'created_at',
  'updated_at',
] as const;

/** Emails by id, whatever their status, without their bodies. */
export async function findEmailsByIds(conn: Conn, ids: readonly string[]): Promise<Email[]> {
  if (ids.length === 0) return [];
  const rows = await conn.selectFrom('emails').select(HEAD_COLUMNS).where('id', 'in', ids).execute();
  return rows.map((r) => toEmail({ ...r, html: null, text: null }));
}

/**
 * The emails of `ids`, without their bodies, those still to send by job `jobId` (`pending`, or
 * `sending` from a run that stopped, and not handed to another job) marked `sending` and claimed
 * for it on the way: one statement where a read and an update were two. The
 * ids alone choose the rows, so the primary key is the only index PostgreSQL can plan with; with the
 * status in the WHERE clause it read every pending email through the status index to find the job's
 * emails whenever its statistics thought pending ones rare, as just after a bulk send (decision 0021).
 */
export async function startSending(
  conn: Conn,
  ids: readonly string[],
  now: string,
  jobId: string,
): Promise<Email[]> {
  if (ids.length === 0) return [];
  const toSend = sql<boolean>`status in ('pending', 'sending') and (job_id is null or job_id = ${jobId})`;
  const rows = await conn
    .updateTable('emails')
    .set({
      status: sql`case when ${toSend} then 'sending' else status end`,
      updated_at: sql`case when ${toSend} then ${now} else updated_at end`,
      job_id: sql`case when ${toSend} then ${jobId} else job_id end`,
    })
    .where('id', 'in', ids)
    .returning(HEAD_COLUMNS)
    .execute();
  return rows.map((r) => toEmail({ ...r, html: null, text: null }));
}

export interface MailTrouble {
  kind: 'unreachable' | 'deferring';
  since: string;
  reply: string;
  nextProbeAt: string;
  probeDelayMs: number;
}

export interface MailState {
  pausedReason: string | null;
  pausedAt: string | null;
  trouble: MailTrouble | null;
}

export async function findMailState(conn: Conn): Promise<MailState> {
  const r = await conn.selectFrom('mail_state').selectAll().where('id', '=', 1).executeTakeFirst();
  return {
    pausedReason: r?.paused_reason ?? null,
    pausedAt: instant(r?.paused_at ?? null),
    trouble:
      r?.trouble && r.trouble_since && r.next_probe_at
        ? {
            kind: r.trouble,
            since: instant(r.trouble_since),
            reply: r.trouble_reply ?? '',
            nextProbeAt: instant(r.next_probe_at),
            probeDelayMs: r.probe_delay_ms ?? 0,
          }
        : null,
  };
}

export async function setMailTrouble(conn: Conn, t: MailTrouble | null): Promise<void> {
  await conn
    .updateTable('mail_state')
    .set({
      trouble: t?.kind ?? null,
      trouble_since: t?.since ?? null,
      trouble_reply: t ? t.reply.slice(0, 1000) : null,
      next_probe_at: t?.nextProbeAt ?? null,
      probe_delay_ms: t?.probeDelayMs ?? null,
    })
    .where('id', '=', 1)
    .execute();
}

/** Moves the next probe from `due` to `next`; true for the one caller whose move happened. */
export async function claimProbe(conn: Conn, due: string, next: string): Promise<boolean> {
  const r = await conn
    .updateTable('mail_state')
    .set({ next_probe_at: next })
    .where('id', '=', 1)
    .where('next_probe_at', '=', due)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Emails not yet delivered (pending or being sent). */
export async function countWaitingEmails(conn: Conn): Promise<number> {
  const r = await conn
    .selectFrom('emails')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('status', 'in', ['pending', 'sending'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function setPaused(conn: Conn, reason: string | null, at: string | null): Promise<void> {
  await conn
    .updateTable('mail_state')
    .set({ paused_reason: reason, paused_at: at })
    .where('id', '=', 1)
    .execute();
}

/** Hands the email to delivery job `jobId` (a retry): no other job may send it from now on. */
export async function handToJob(conn: Conn, id: string, jobId: string): Promise<void> {
  await conn.updateTable('emails').set({ job_id: jobId }).where('id', '=', id).execute();
}

/** True when job `id` may still run (queued or running); false when it is dead, done or gone. */
export async function isJobLive(conn: Conn, id: string): Promise<boolean> {
  const r = await conn.selectFrom('jobs').select('status').where('id', '=', id).executeTakeFirst();
  return r?.status === 'queued' || r?.status === 'running';
}

/** True when a queued or running job of `type` names email `id` in its payload. */
export async function isListedByLiveJob(conn: Conn, type: string, id: string): Promise<boolean> {
  const r = await conn
    .selectFrom('jobs')
    .select('id')
    .where('type', '=', type)
    .where('status', 'in', ['queued', 'running'])
    .where(sql<string>`cast(payload as text)`, 'like', `%${id}%`)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * Sets `email` back to `pending` for a retry, only if its status and owning job are still those
 * read; false when another request changed them first.
 */
export async function reopenForRetry(
  conn: Conn,
  email: Pick<Email, 'id' | 'status' | 'jobId'>,
  now: string,
): Promise<boolean> {
  const r = await conn
    .updateTable('emails')
    .set({ status: 'pending', updated_at: now })
    .where('id', '=', email.id)
    .where('status', '=', email.status)
    .where((eb) => (email.jobId === null ? eb('job_id', 'is', null) : eb('job_id', '=', email.jobId)))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
