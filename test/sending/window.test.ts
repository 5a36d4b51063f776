import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { smtpMailer } from '../../src/mail/smtp.ts';
import { SendingWindow } from '../../src/mail/window.ts';
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
  it('gives slots in turn, and a message that leaves gives back its slot or its turn', async () => {
    const window = new SendingWindow(1);
    const order: string[] = [];
    const a = window.slot();
    const b = window.slot();
    const c = window.slot();
    await a.take();
    void b.take().then(() => order.push('b'));
    void c.take().then(() => order.push('c'));
    b.leave(); // still waiting: only its turn goes
    await settle();
    assert.deepEqual(order, []);
    a.leave(); // not accepted after all: its slot goes to the next in turn
    await settle();
    assert.deepEqual(order, ['c']);
    window.release(); // c accepted and recorded
    const d = window.slot();
    await d.take();
    await assert.rejects(d.take(), /slot is in/);
  });
});

describe('the SMTP transport in the window', () => {
  const sink = new SmtpSink();
  before(() => sink.start());
  after(() => sink.stop());

  it('holds a message before the end of its DATA until a slot is free, and frees a refused one', async () => {
    const mailer = smtpMailer(sink.url, 2);
    try {
      const window = new SendingWindow(1);
      await mailer.send(envelope(1), raw(1), window.slot()); // accepted: keeps the slot
      const second = mailer.send(envelope(2), raw(2), window.slot());
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
      const refused = window.slot();
      await assert.rejects(mailer.send(envelope(3), raw(3), refused), /No such user/);
      refused.leave(); // what the post does with a message not accepted
      await mailer.send(envelope(4), raw(4), window.slot()); // the slot was given back
      assert.equal(sink.messages.length, 3);
    } finally {
      await mailer.close();
    }
  });
});
