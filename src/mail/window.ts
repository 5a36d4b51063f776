/**
 * The sending window of one transport: how many messages may be accepted by the mail server and not
 * yet recorded. A crash between the server's acceptance and the record is the only way an email goes
 * out twice, so the window's size (the transport's SMTP connections) bounds the duplicates.
 *
 * A message takes its slot as late as it can: the SMTP transport just before the end of DATA (the
 * final dot, after which the server may accept), the outbox just before writing the file. A message
 * not accepted leaves (its slot, or its turn in the queue); an accepted one keeps its slot until the
 * caller has recorded it and calls `release()`.
 */
export class SendingWindow {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  /** A message's claim on a slot, not yet taken. */
  slot(): Slot {
    let state: 'out' | 'waiting' | 'in' | 'left' = 'out';
    let grant: (() => void) | undefined;
    return {
      take: () => {
        if (state !== 'out') return Promise.reject(new Error(`a message's slot is ${state}, not out`));
        if (this.free > 0) {
          this.free--;
          state = 'in';
          return Promise.resolve();
        }
        state = 'waiting';
        return new Promise<void>((resolve) => {
          grant = () => {
            state = 'in';
            resolve();
          };
          this.waiting.push(grant);
        });
      },
      leave: () => {
        if (state === 'in') this.release();
        else if (state === 'waiting') this.waiting.splice(this.waiting.indexOf(grant as () => void), 1);
        state = 'left';
      },
    };
  }

  /** An accepted message has been recorded: its slot goes to the next in turn. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export interface Slot {
  /** Waits for a free slot; the transport calls it just before the message can be accepted. */
  take(): Promise<void>;
  /** The message was not accepted: gives back its slot, or its turn if it was still waiting. */
  leave(): void;
}
