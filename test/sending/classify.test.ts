import assert from 'node:assert/strict';
import { it } from 'node:test';
import { classifyMailError } from '../../src/mail/mailer.ts';

/** Which failures are the message's and which the server's (the server's ones wait and probe). */
it('classifies mail failures: per message, per server, credentials', () => {
  const c = (e: Record<string, unknown>) => {
    const m = classifyMailError(e);
    return [m.failure, m.responseCode];
  };
  assert.deepEqual(c({ responseCode: 550, command: 'RCPT TO', response: '550 no such user' }), [
    'permanent',
    null,
  ]);
  assert.deepEqual(c({ responseCode: 451, command: 'DATA', response: '451 try later' }), ['temporary', null]);
  assert.deepEqual(c({ responseCode: 421, command: 'DATA', response: '421 closing' }), ['connection', 421]);
  assert.deepEqual(c({ responseCode: 554, command: 'CONN', code: 'EPROTOCOL', response: '554 blocked' }), [
    'connection',
    554,
  ]);
  assert.deepEqual(c({ code: 'EMESSAGE', message: 'Message size larger than allowed' }), ['permanent', null]);
  assert.deepEqual(c({ code: 'EENVELOPE', message: 'No recipients defined' }), ['permanent', null]);
  assert.deepEqual(c({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }), ['connection', null]);
  assert.deepEqual(c({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }), ['auth', null]);
});
