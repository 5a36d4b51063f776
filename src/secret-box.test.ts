import assert from 'node:assert/strict';
import { it } from 'node:test';
import { deriveKeys } from './keys.ts';
import { open, seal } from './secret-box.ts';

const key = deriveKeys('a'.repeat(64)).identityProviderSecret;

it('a sealed secret opens with its key and record, and never shows the plaintext', () => {
  const sealed = seal(key, 'client-secret-value', 'provider-1');
  assert.ok(!sealed.includes('client-secret-value'));
  assert.notEqual(seal(key, 'client-secret-value', 'provider-1'), sealed, 'a fresh nonce each time');
  assert.equal(open(key, sealed, 'provider-1'), 'client-secret-value');
});

it('a sealed secret does not open under another key, on another record, or once changed', () => {
  const sealed = seal(key, 's3cret', 'provider-1');
  assert.equal(open(deriveKeys('b'.repeat(64)).identityProviderSecret, sealed, 'provider-1'), null);
  assert.equal(open(key, sealed, 'provider-2'), null);
  const parts = sealed.split('.');
  const body = Buffer.from(parts[2] as string, 'base64url');
  body[0] = (body[0] as number) ^ 1;
  parts[2] = body.toString('base64url');
  assert.equal(open(key, parts.join('.'), 'provider-1'), null);
  assert.equal(open(key, 'not sealed', 'provider-1'), null);
});
