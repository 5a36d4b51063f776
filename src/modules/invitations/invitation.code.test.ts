import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveKeys } from '../../keys.ts';
import { CODE_LENGTH, codeHash, deriveCode, normaliseCode } from './invitation.code.ts';

const keys = deriveKeys('unit-test-secret-0123456789abcdefghijkl');
const id = '01936f4e-0000-7000-8000-000000000001';

describe('invitation codes', () => {
  it('are 28 Crockford base32 characters (140 bits) in groups of four', () => {
    const code = deriveCode(keys, id, 1);
    assert.match(code, /^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$/);
    assert.equal(code.replace(/-/g, '').length, CODE_LENGTH);
    assert.ok(CODE_LENGTH * 5 >= 128);
  });

  it('are stable for an invitation and version, and change with either', () => {
    assert.equal(deriveCode(keys, id, 1), deriveCode(keys, id, 1));
    assert.notEqual(deriveCode(keys, id, 1), deriveCode(keys, id, 2));
    assert.notEqual(deriveCode(keys, id, 1), deriveCode(keys, '01936f4e-0000-7000-8000-000000000002', 1));
    assert.notEqual(
      deriveCode(keys, id, 1),
      deriveCode(deriveKeys('another-secret-0123456789abcdefghijkl'), id, 1),
    );
  });

  it('spread evenly over the alphabet (no bias from the encoding)', () => {
    const counts = new Map<string, number>();
    for (let v = 1; v <= 2000; v++) {
      for (const ch of deriveCode(keys, id, v).replace(/-/g, '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    assert.equal(counts.size, 32);
    const expected = (2000 * CODE_LENGTH) / 32;
    for (const [ch, n] of counts)
      assert.ok(Math.abs(n - expected) < expected * 0.15, `${ch}: ${n} vs ${expected}`);
  });

  it('match ignoring case, spaces, hyphens and Crockford look-alikes', () => {
    const code = deriveCode(keys, id, 1);
    const compact = code.replace(/-/g, '');
    const hash = codeHash(keys, code);
    assert.ok(hash);
    assert.equal(codeHash(keys, compact.toLowerCase()), hash);
    assert.equal(codeHash(keys, ` ${compact.match(/.{1,3}/g)?.join(' ')} `), hash);
    const lookalike = compact.replace(/1/g, 'l').replace(/0/g, 'o');
    assert.equal(codeHash(keys, lookalike), hash);
  });

  it('refuse malformed and overlong input before any lookup', () => {
    const compact = deriveCode(keys, id, 1).replace(/-/g, '');
    assert.equal(normaliseCode(''), null);
    assert.equal(normaliseCode(compact.slice(1)), null);
    assert.equal(normaliseCode(`${compact}A`), null);
    assert.equal(normaliseCode(`${compact.slice(1)}U`), null, 'U is not in the alphabet');
    assert.equal(normaliseCode('x'.repeat(10_000)), null);
    assert.equal(normaliseCode(`${compact.slice(0, 27)}\n`), null);
  });

  it('are stored only as a keyed hash that is not the code', () => {
    const code = deriveCode(keys, id, 1);
    const hash = codeHash(keys, code) as string;
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.ok(!hash.toUpperCase().includes(code.replace(/-/g, '')));
    assert.notEqual(codeHash(deriveKeys('another-secret-0123456789abcdefghijkl'), code), hash);
  });
});
