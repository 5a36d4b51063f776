import type { Db } from '../../db/database.ts';
import { retryWhileUnavailable } from '../../db/dialect.ts';
import { windowPublicationWrites } from '../events/event.ts';
import { recordSentMany, type SentRecord } from './email.repository.ts';

/** An accepted message to record, and the type of integrator event its acceptance publishes, if any. */
export type Accepted = SentRecord & { publishes?: string };

/**
 * Records accepted messages with group commit: a write starts at the end of the event loop's turn
 * (setImmediate), so every record that arrives in the same turn (the SMTP replies read together)
 * goes in it, and the ones that arrive while a write is in flight go together in the next. Nothing
 * waits on a timer, so a lone email is recorded at once, and under load one statement records a
 * handful (one transaction or round trip instead of each email's own; decision 0021).
 *
 * An accepted message keeps its slot in the sending window until its record is written
 * (mail/window.ts), so after a crash the messages accepted but not recorded are at most the SMTP
 * pool size, batching or not. While the database cannot be reached, the write is tried again (every
 * RETRY_MS at first, then at most every RETRY_CAP_MS, for up to GIVE_UP_MS), so an outage delays
 * the records instead of losing them: the messages keep their places and are not sent again.
 * The events the acceptances publish (`invitation.sent`) are derived from their records when their
 * second is published (sent.events.ts); a commit makes sure that publication exists, and only the
 * first commit of a second here writes it.
 */
const RETRY_MS = 250;
const RETRY_CAP_MS = 500;
const GIVE_UP_MS = 600_000;

export class SentRecorder {
  private queue: { record: Accepted; done: (err?: unknown) => void }[] = [];
  private writing = false;
  /** The publication windows whose job a commit of this recorder wrote (the newest few). */
  private readonly windows = new Set<string>();

  constructor(private readonly db: Db) {}

  record(record: Accepted): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.write(batch.map((b) => b.record));
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err);
      }
    }
    this.writing = false;
  }

  private async write(records: Accepted[]): Promise<void> {
    const publishing = records.flatMap((r) => (r.publishes ? [{ type: r.publishes, at: r.sentAt }] : []));
    const opened = await retryWhileUnavailable(
      async () => {
        const at = new Date();
        const { writes, windows } = windowPublicationWrites(this.db, at, publishing, this.windows);
        await recordSentMany(this.db, records, writes);
        // A commit that took long may have landed after its second's publication read the emails:
        // such seconds get a publication of their own (the others' jobs exist, and are left).
        const after = new Date();
        if (after.getTime() - at.getTime() > SLOW_COMMIT_MS)
          for (const q of windowPublicationWrites(this.db, after, publishing).writes)
            await this.db.executeQuery(q);
        return windows;
      },
      { firstMs: RETRY_MS, capMs: RETRY_CAP_MS, giveUpMs: GIVE_UP_MS },
    );
    for (const w of opened) this.windows.add(w);
    // A Set iterates in the order of insertion: the oldest windows go first.
    for (const w of this.windows) {
      if (this.windows.size <= KEPT_WINDOWS) break;
      this.windows.delete(w);
    }
  }
}

/** A commit slower than this is followed by publications of the seconds it may have missed. */
const SLOW_COMMIT_MS = 1000;

/** Windows a recorder remembers: more than the types of event it writes, in a few seconds. */
const KEPT_WINDOWS = 16;

const recorders = new WeakMap<Db, SentRecorder>();

/** The recorder of this database handle, shared by every delivery job of the process. */
export function sentRecorderFor(db: Db): SentRecorder {
  let r = recorders.get(db);
  if (!r) {
    r = new SentRecorder(db);
    recorders.set(db, r);
  }
  return r;
}
