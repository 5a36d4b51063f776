import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../src/passwords.ts';

/** Nice values of this process's threads, from /proc (Linux). */
const niceOfThreads = () =>
  readdirSync('/proc/self/task').map((t) => {
    const fields = readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[16]);
  });

describe('passwords', () => {
  it('hashes with argon2id and verifies only the right password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    assert.match(stored, /^\$argon2id\$/);
    assert.equal(await verifyPassword(stored, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(stored, 'correct horse battery stapler'), false);
    assert.equal(await verifyPassword(null, 'anything at all'), false, 'no stored hash: false');
    assert.equal(await verifyPassword('not a hash', 'anything at all'), false);
  });

  it('hashes on threads that yield to the event loop (nice 19 on Linux)', {
    skip: process.platform !== 'linux',
  }, async () => {
    await Promise.all([hashPassword('first password here'), hashPassword('second password here')]);
    const nice = niceOfThreads();
    assert.equal(nice[0], 0, 'the main thread keeps its priority');
    assert.ok(nice.filter((n) => n === 19).length >= 1, `hashing threads at nice 19: ${nice.join(' ')}`);
  });
});
