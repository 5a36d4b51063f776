import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { smtpMailer } from '../../src/mail/smtp.ts';
import { Window } from '../../src/mail/window.ts';
import { SmtpSink } from '../support/smtp-sink.ts';

const settle = () => new Promise((r) => setTimeout(r, 150));
const raw = (n: number) =>
  Buffer.from(`Subject: ${n}\r\nMessage-ID: <m${n}@example.test>\r\n\r\nbody ${n}\r\n`);
const envelope = (n: number) => ({
  messageId: `m${n}@example.test`,
  from: 'a@example.test',
  to: `to${n}@example.test`,
});

describe('the sending window', () => {
  it('gives places in turn, and a message that leaves gives back its place or its turn', async () => {
    const window = new Window(1);
    const order: string[] = [];
    const a = window.place();
    const b = window.place();
    const c = window.place();
    await a.take();
    void b.take().then(() => order.push('b'));
    void c.take().then(() => order.push('c'));
    b.leave(); // still waiting: only its turn goes
    await settle();
    assert.deepEqual(order, []);
    a.leave(); // not accepted after all: its place goes to the next in turn
    await settle();
    assert.deepEqual(order, ['c']);
    window.release(); // c accepted and recorded
    const d = window.place();
    await d.take();
    await assert.rejects(d.take(), /place is in/);
  });
});

describe('the SMTP transport in the window', () => {
  const sink = new SmtpSink();
  before(() => sink.start());
  after(() => sink.stop());

  it('holds a message before the end of its DATA until a place is free, and frees a refused one', async () => {
    const mailer = smtpMailer(sink.url, 2);
    try {
      const window = new Window(1);
      await mailer.send(envelope(1), raw(1), window.place()); // accepted: keeps the place
      const second = mailer.send(envelope(2), raw(2), window.place());
      await settle();
      assert.equal(
        sink.messages.length,
        1,
        'the second message waits: not accepted while the first is unrecorded',
      );
      window.release(); // the first is recorded
      await second;
      assert.deepEqual(
        sink.messages.map((m) => m.to[0]),
        ['to1@example.test', 'to2@example.test'],
      );
      window.release();

      sink.failNext(1, 550, '5.1.1 No such user');
      const refused = window.place();
      await assert.rejects(mailer.send(envelope(3), raw(3), refused), /No such user/);
      refused.leave(); // what the post does with a message not accepted
      await mailer.send(envelope(4), raw(4), window.place()); // the place was given back
      assert.equal(sink.messages.length, 3);
    } finally {
      await mailer.close();
    }
  });
});
