import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../errors.ts';
import { defaultSettings } from '../websites/website.settings.ts';
import {
  checkShape,
  deriveStatus,
  redemptionUrl,
  resolveExpiry,
  type StatusInputs,
} from './invitation.rules.ts';

const now = new Date('2026-11-22T12:00:00.000Z');
const base: StatusInputs = {
  state: 'active',
  statusReason: 'new',
  redemptionCount: 0,
  maxRedemptions: 1,
  expiresAt: null,
};
const fails = (fn: () => unknown, path: string) =>
  assert.throws(
    fn,
    (e: unknown) =>
      e instanceof AppError && e.code === 'VALIDATION_FAILED' && !!e.errors?.some((x) => x.path === path),
  );

describe('derived status', () => {
  it('is inactive first, then redeemed, then expired, then sent or new', () => {
    assert.equal(
      deriveStatus(
        { ...base, state: 'inactive', redemptionCount: 1, expiresAt: '2020-01-01T00:00:00Z' },
        now,
      ),
      'inactive',
    );
    assert.equal(
      deriveStatus({ ...base, redemptionCount: 1, expiresAt: '2020-01-01T00:00:00Z' }, now),
      'redeemed',
    );
    assert.equal(
      deriveStatus({ ...base, expiresAt: '2026-11-22T12:00:00.000Z' }, now),
      'expired',
      'expiry is inclusive',
    );
    assert.equal(deriveStatus({ ...base, expiresAt: '2026-11-22T12:00:00.001Z' }, now), 'new');
    assert.equal(deriveStatus({ ...base, statusReason: 'sent' }, now), 'sent');
    assert.equal(
      deriveStatus({ ...base, statusReason: 'sent', maxRedemptions: 5, redemptionCount: 4 }, now),
      'sent',
    );
  });
});

describe('invitation shape', () => {
  it('a Single invitation invites exactly one contact, once', () => {
    assert.equal(checkShape('single', ['a'], undefined), 1);
    assert.equal(checkShape('single', ['a'], 1), 1);
    fails(() => checkShape('single', [], undefined), '/invitedContactIds');
    fails(() => checkShape('single', ['a', 'b'], undefined), '/invitedContactIds');
    fails(() => checkShape('single', ['a'], 2), '/maxRedemptions');
  });
  it('a Group invitation needs maxRedemptions and takes any number of contacts', () => {
    assert.equal(checkShape('group', [], 5), 5);
    assert.equal(checkShape('group', ['a', 'b', 'c'], 1), 1);
    fails(() => checkShape('group', ['a'], undefined), '/maxRedemptions');
    fails(() => checkShape('group', ['a', 'a'], 3), '/invitedContactIds');
  });
  it('the maximum never drops below the redemptions already made', () => {
    fails(() => checkShape('group', [], 2, 3), '/maxRedemptions');
    assert.equal(checkShape('group', [], 3, 3), 3);
  });
});

describe('expiry', () => {
  it('defaults to the website lifetime, as an exact instant', () => {
    assert.equal(resolveExpiry(undefined, defaultSettings, now), '2026-12-06T12:00:00.000Z');
    assert.equal(
      resolveExpiry(undefined, { ...defaultSettings, defaultInvitationLifetimeDays: 1 }, now),
      '2026-11-23T12:00:00.000Z',
    );
  });
  it('never expires only where the website allows it', () => {
    fails(() => resolveExpiry(null, defaultSettings, now), '/expiresAt');
    assert.equal(resolveExpiry(null, { ...defaultSettings, allowNonExpiringInvitations: true }, now), null);
  });
  it('must lie in the future', () => {
    fails(() => resolveExpiry('2026-11-22T12:00:00.000Z', defaultSettings, now), '/expiresAt');
    fails(() => resolveExpiry('2026-11-22T13:00:00+01:00', defaultSettings, now), '/expiresAt');
    assert.equal(
      resolveExpiry('2026-11-22T14:00:00+01:00', defaultSettings, now),
      '2026-11-22T13:00:00.000Z',
    );
  });
});

describe('redemption URL', () => {
  it('follows the Power Pages contract from the configured base URL', () => {
    assert.equal(
      redemptionUrl('https://portal.example.com/partners', 'ABCD-EFGH'),
      'https://portal.example.com/partners/register?returnurl=%2F&invitation=ABCD-EFGH',
    );
  });
});
