import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { wakeJobs } from '../../jobs/job.repository.ts';
import { recordAudit } from '../events/event.ts';
import type { MailTrouble } from './email.repository.ts';
import * as repo from './email.repository.ts';
import { DELIVER_JOB } from './email.ts';

/**
 * Whether mail can go out now, shared by every process through the `mail_state` row:
 * - paused: the server refused our credentials; nothing is sent until an administrator resumes;
 * - in trouble: the server is unreachable or deferring (421); deliveries wait, and one probe at a
 *   time tries the server, first after PROBE_FIRST_MS, then twice as long each time, at most
 *   PROBE_CAP_MS apart, so delivery resumes within PROBE_CAP_MS (and a poll) of its return.
 */
/** How long a delivery waits before it looks again at a pause (a resume wakes it at once). */
export const PAUSED_RECHECK_MS = 30_000;
export const PROBE_FIRST_MS = 1_000;
export const PROBE_CAP_MS = 15_000;
const PROBE_HOLD_MS = 30_000;

export interface MailStatus {
  transport: 'smtp' | 'outbox';
  state: 'sending' | 'paused' | 'unreachable' | 'deferring';
  /** True whenever nothing goes out now (paused, or the server in trouble). */
  paused: boolean;
  reason: string | null;
  since: string | null;
  lastReply: string | null;
  nextAttemptAt: string | null;
  /** Emails not yet delivered. */
  waiting: number;
}

export async function mailStatus(deps: Deps): Promise<MailStatus> {
  const [state, waiting] = await Promise.all([repo.findMailState(deps.db), repo.countWaitingEmails(deps.db)]);
  const sending: MailStatus = {
    transport: deps.mail.kind,
    state: 'sending',
    paused: false,
    reason: null,
    since: null,
    lastReply: null,
    nextAttemptAt: null,
    waiting,
  };
  if (state.pausedReason !== null)
    return { ...sending, state: 'paused', paused: true, reason: state.pausedReason, since: state.pausedAt };
  const t = state.trouble;
  if (!t) return sending;
  return {
    ...sending,
    state: t.kind,
    paused: true,
    reason:
      t.kind === 'unreachable'
        ? 'The mail server cannot be reached; delivery resumes by itself when it answers.'
        : 'The mail server is deferring or refusing every message (421, or a refusal when we connect); delivery resumes by itself when it accepts again.',
    since: t.since,
    lastReply: t.reply,
    nextAttemptAt: t.nextProbeAt,
  };
}

/** Sending stops (jobs wait) until resumed: the server refused our credentials. */
export const pauseSending = (conn: Conn, reason: string, at: string) => repo.setPaused(conn, reason, at);

export async function resumeSending(deps: Deps, actor: Actor): Promise<MailStatus> {
  await deps.db.transaction().execute(async (trx) => {
    await repo.setPaused(trx, null, null);
    await recordAudit(
      trx,
      deps,
      actor,
      'mail.resumed',
      { type: 'mail', id: '00000000-0000-7000-8000-000000000001' },
      {},
    );
  });
  await wakeDeliveries(deps);
  return mailStatus(deps);
}

/**
 * What a delivery may do now: `send`; `probe` (the server is in trouble and this caller is the one
 * to try it, with one message); or wait (`paused` with the reason, or `wait` for `ms`).
 */
export type MailGate =
  | { kind: 'send' }
  | { kind: 'probe' }
  | { kind: 'paused'; reason: string }
  | { kind: 'wait'; ms: number; reason: string };

export async function mailGate(conn: Conn, now: Date): Promise<MailGate> {
  const state = await repo.findMailState(conn);
  if (state.pausedReason !== null) return { kind: 'paused', reason: state.pausedReason };
  const t = state.trouble;
  if (!t) return { kind: 'send' };
  const reason = `mail server ${t.kind}: ${t.reply}`;
  const wait = Date.parse(t.nextProbeAt) - now.getTime();
  if (wait > 0) return { kind: 'wait', ms: wait, reason };
  // The others wait while the probe runs (at most PROBE_HOLD_MS, longer than an SMTP connection
  // may take to fail); its outcome sets the next probe or ends the trouble.
  const hold = new Date(now.getTime() + PROBE_HOLD_MS).toISOString();
  if (await repo.claimProbe(conn, t.nextProbeAt, hold)) return { kind: 'probe' };
  return { kind: 'wait', ms: Math.max(t.probeDelayMs, PROBE_FIRST_MS), reason };
}

/**
 * The server could not take mail (`responseCode` 421: deferring; none: unreachable). Returns how
 * long deliveries wait before the next probe. A failed probe doubles the delay, from PROBE_FIRST_MS
 * up to PROBE_CAP_MS; any other failure keeps the probe already scheduled.
 */
export async function reportMailTrouble(
  conn: Conn,
  failure: { responseCode: number | null; reply: string; probe: boolean },
  now: Date,
): Promise<number> {
  const { reply } = failure;
  const kind: MailTrouble['kind'] = failure.responseCode ? 'deferring' : 'unreachable';
  const t = (await repo.findMailState(conn)).trouble;
  const scheduled = t ? Date.parse(t.nextProbeAt) - now.getTime() : 0;
  if (t && scheduled > 0 && !failure.probe) {
    await repo.setMailTrouble(conn, { ...t, kind, reply });
    return scheduled;
  }
  const delay = t ? Math.min(PROBE_CAP_MS, Math.max(PROBE_FIRST_MS, t.probeDelayMs * 2)) : PROBE_FIRST_MS;
  await repo.setMailTrouble(conn, {
    kind,
    since: t?.since ?? now.toISOString(),
    reply,
    probeDelayMs: delay,
    nextProbeAt: new Date(now.getTime() + delay).toISOString(),
  });
  return delay;
}

/** The server took a message again: the trouble ends and the deliveries waiting for it run now. */
export async function endMailTrouble(deps: Deps): Promise<void> {
  await repo.setMailTrouble(deps.db, null);
  await wakeDeliveries(deps);
}

/** Deliveries waiting for the mail server (or the pause) become due now. */
async function wakeDeliveries(deps: Deps): Promise<void> {
  const now = deps.now();
  await wakeJobs(
    deps.db,
    DELIVER_JOB,
    new Date(now.getTime() + Math.max(PROBE_HOLD_MS, PAUSED_RECHECK_MS) + PROBE_FIRST_MS).toISOString(),
    now.toISOString(),
  );
  deps.notifyJobs();
}
