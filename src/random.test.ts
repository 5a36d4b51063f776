import assert from 'node:assert/strict';
import { it } from 'node:test';
import { randomToken } from './random.ts';

it('gives distinct tokens of the asked length, across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const t = randomToken(32);
    assert.match(t, /^[A-Za-z0-9_-]{43}$/);
    seen.add(t);
  }
  assert.equal(seen.size, 1000, 'no token repeats (1000 tokens: about 8 refills of the pool)');
  assert.equal(Buffer.from(randomToken(5000), 'base64url').length, 5000, 'larger than the pool');
});
