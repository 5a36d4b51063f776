import { AppError, type FieldError, throwIfInvalid } from '../../errors.ts';
import type { WebsiteSettings } from '../websites/website.ts';

/**
 * The rules of SPEC 3 that need no database, in one place: status derivation, the single/group
 * shape, expiry defaults, the redemption URL. Services call these; nothing else re-implements them.
 */

export type InvitationType = 'single' | 'group';
export type InvitationState = 'active' | 'inactive';
export type StatusReason = 'new' | 'sent' | 'redeemed' | 'inactive';
export type InvitationStatus = 'new' | 'sent' | 'redeemed' | 'expired' | 'inactive';

export interface StatusInputs {
  state: InvitationState;
  statusReason: StatusReason;
  redemptionCount: number;
  maxRedemptions: number;
  expiresAt: string | null;
}

/** Derived on every read: expiry never waits for a sweeper. */
export function deriveStatus(i: StatusInputs, now: Date): InvitationStatus {
  if (i.state === 'inactive') return 'inactive';
  if (i.redemptionCount >= i.maxRedemptions) return 'redeemed';
  if (i.expiresAt !== null && Date.parse(i.expiresAt) <= now.getTime()) return 'expired';
  return i.statusReason === 'new' ? 'new' : 'sent';
}

/**
 * Why a code cannot be used. Every reason looks the same to the person typing the code (the uniform
 * INVITATION_NOT_REDEEMABLE); the reason goes only to the audit trail of an existing invitation.
 */
export type Refusal =
  | 'unknown'
  | 'other-website'
  | 'inactive'
  | 'used-up'
  | 'expired'
  | 'not-invited'
  | 'already-redeemed'
  /** Concurrent attempts took the last place, or the same contact or link redeemed it meanwhile. */
  | 'lost-race';

/**
 * Why the invitation cannot be redeemed now by anyone, or null when it can. `expiredNow` is decided
 * by the database's clock (invitation.repository.ts `RedeemableRow`), not the process's.
 */
export function refusalOf(
  i: Omit<StatusInputs, 'expiresAt' | 'statusReason'> & { expiredNow: boolean },
): Refusal | null {
  if (i.state === 'inactive') return 'inactive';
  if (i.redemptionCount >= i.maxRedemptions) return 'used-up';
  if (i.expiredNow) return 'expired';
  return null;
}

/**
 * Why this contact may not redeem the invitation, or null when it may (SPEC 5): a contact redeems an
 * invitation at most once; a Single invitation is its invited contact's unless the website allows
 * others; a Group invitation limited to its invited contacts is theirs alone.
 */
export function contactRefusalOf(
  i: { type: InvitationType; invitedContactsOnly: boolean },
  lists: { invitedContactIds: readonly string[]; redeemedContactIds: readonly string[] },
  contactId: string,
  settings: { redeemByOtherContactAllowed: boolean },
): 'not-invited' | 'already-redeemed' | null {
  if (lists.redeemedContactIds.includes(contactId)) return 'already-redeemed';
  const invited = lists.invitedContactIds.includes(contactId);
  if (i.type === 'single' && !invited && !settings.redeemByOtherContactAllowed) return 'not-invited';
  if (i.type === 'group' && i.invitedContactsOnly && !invited) return 'not-invited';
  return null;
}

/** The status reason an active invitation has when nothing else decides it. */
export const activeStatusReason = (i: {
  redemptionCount: number;
  maxRedemptions: number;
  lastSentAt: string | null;
}): StatusReason =>
  i.redemptionCount >= i.maxRedemptions ? 'redeemed' : i.lastSentAt !== null ? 'sent' : 'new';

/**
 * Single: exactly one invited contact and one redemption. Group: any number of invited contacts and
 * `maxRedemptions >= 1`, given explicitly. Returns the maximum to store, or throws VALIDATION_FAILED.
 */
export function checkShape(
  type: InvitationType,
  invitedContactIds: readonly string[],
  maxRedemptions: number | undefined,
  redemptionCount = 0,
): number {
  const errors: FieldError[] = [];
  let max = maxRedemptions ?? 1;
  if (type === 'single') {
    if (invitedContactIds.length !== 1) {
      errors.push({
        path: '/invitedContactIds',
        message: 'A Single invitation invites exactly one contact.',
      });
    }
    if (maxRedemptions !== undefined && maxRedemptions !== 1) {
      errors.push({
        path: '/maxRedemptions',
        message: 'A Single invitation can be redeemed once; use a Group invitation for more.',
      });
    }
    max = 1;
  } else if (maxRedemptions === undefined) {
    errors.push({
      path: '/maxRedemptions',
      message: 'A Group invitation needs maxRedemptions (at least 1).',
    });
  }
  if (max < redemptionCount) {
    errors.push({
      path: '/maxRedemptions',
      message: `The invitation was already redeemed ${redemptionCount} times; the maximum cannot be lower.`,
    });
  }
  if (new Set(invitedContactIds).size !== invitedContactIds.length) {
    errors.push({ path: '/invitedContactIds', message: 'A contact is listed more than once.' });
  }
  throwIfInvalid(errors);
  return max;
}

/**
 * The expiry to store. Undefined: the website's default lifetime from now. Null: never, only where
 * the website allows it. An instant: must lie in the future.
 */
export function resolveExpiry(
  requested: string | null | undefined,
  settings: WebsiteSettings,
  now: Date,
): string | null {
  if (requested === undefined) {
    return new Date(now.getTime() + settings.defaultInvitationLifetimeDays * 86_400_000).toISOString();
  }
  if (requested === null) {
    if (!settings.allowNonExpiringInvitations) {
      throw new AppError(
        'VALIDATION_FAILED',
        'This website does not allow invitations that never expire; give expiresAt.',
        [
          {
            path: '/expiresAt',
            message: 'must be an instant: the website does not allow non-expiring invitations',
          },
        ],
      );
    }
    return null;
  }
  const at = new Date(requested);
  if (at.getTime() <= now.getTime()) {
    throw new AppError(
      'VALIDATION_FAILED',
      'expiresAt must lie in the future; to stop an invitation, deactivate it.',
      [{ path: '/expiresAt', message: 'must lie in the future' }],
    );
  }
  return at.toISOString();
}

export const defaultName = (
  type: InvitationType,
  invited?: { firstName: string; lastName: string },
): string =>
  type === 'single' && invited
    ? `${invited.firstName} ${invited.lastName}`.trim() || 'Invitation'
    : 'Group invitation';

/** The Power Pages contract, built from the configured base URL, never from request headers. */
export const redemptionUrl = (baseUrl: string, code: string): string =>
  `${baseUrl}/register?returnurl=%2F&invitation=${encodeURIComponent(code)}`;
