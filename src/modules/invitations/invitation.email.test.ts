import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readableInstant } from './invitation.email.ts';

describe('the expiry in the invitation email', () => {
  it('reads as people read it, each instant its own, however they alternate', () => {
    assert.equal(readableInstant('2026-12-06T12:00:00.000Z'), 'December 6, 2026 at 12:00 UTC');
    assert.equal(readableInstant('2027-01-31T23:05:00.000Z'), 'January 31, 2027 at 23:05 UTC');
    assert.equal(readableInstant('2026-12-06T12:00:00.000Z'), 'December 6, 2026 at 12:00 UTC');
  });
});
