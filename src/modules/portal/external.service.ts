import type { Deps } from '../../context.ts';
import { AppError } from '../../errors.ts';
import {
  type Contact,
  findContact,
  findLinkedContact,
  grantOpenRegistrationAccess,
  hasWebsiteAccess,
  linkExternalLogin,
  recordSignIn,
  touchExternalLogin,
} from '../contacts/contact.ts';
import {
  type CodeRef,
  ExistingContactProven,
  ExternalEmailMismatch,
  type ExternalIdentity,
  redeemInvitation,
} from '../invitations/invitation.ts';
import type { Website } from '../websites/website.ts';
import type { Client } from './portal.context.ts';
import { mailToken } from './portal.mail.ts';

/**
 * What the portal does with a person an identity provider vouched for (SPEC 5, external identity
 * providers): link the provider to the signed-in contact who asked to, redeem the pending
 * invitation, or sign in the contact the provider is linked to. Nothing is linked or redeemed for
 * an outcome other than `signedIn` or `linked`.
 */
export type ExternalOutcome =
  /** Signed in as `contact`; `redeemed` when the pending invitation was redeemed too. */
  | { signedIn: Contact; redeemed: boolean }
  /**
   * The contact the provider is linked to, with an invitation pending: it confirms the redemption
   * as after a password sign-in (signed in, or with `verified` when it has no access here yet).
   * With `link`, the provider proved the address the invitation was sent to of a contact who signs
   * in elsewhere: the redemption it confirms links the provider too.
   */
  | { confirm: Contact; verified: boolean; link?: ExternalIdentity }
  /** The provider is now linked to the signed-in contact (or already was). */
  | { linked: true }
  | {
      refused: 'no-account' | 'linked-elsewhere' | 'account-exists' | 'invited-only' | 'not-redeemable';
    }
  /** A Single invitation and another (or no verified) email: each address masked. */
  | { mismatch: { invited: string | null; provider: string | null } };

export async function completeExternalSignIn(
  deps: Deps,
  website: Website,
  identity: ExternalIdentity,
  ctx: { linkTo: Contact | null; pending: CodeRef | null; client: Client },
): Promise<ExternalOutcome> {
  const actor = { type: 'contact' as const, id: ctx.linkTo?.id ?? null, ip: ctx.client.ip };
  const s = website.settings;
  // An invitation is redeemed only while the website takes redemptions (as the Register form).
  const pending = s.registrationEnabled && s.invitationEnabled ? ctx.pending : null;
  const linked = await findLinkedContact(deps.db, identity.providerId, identity.subject);
  if (ctx.linkTo) {
    if (linked)
      return linked.contactId === ctx.linkTo.id ? { linked: true } : { refused: 'linked-elsewhere' };
    const done = await linkExternalLogin(deps, actor, ctx.linkTo.id, identity);
    return done ? { linked: true } : { refused: 'linked-elsewhere' };
  }
  if (linked) {
    const contact = await findContact(deps.db, linked.contactId);
    if (!contact?.loginEnabled) return { refused: 'no-account' };
    await touchExternalLogin(deps.db, linked.loginId, deps.now().toISOString());
    const access =
      (await hasWebsiteAccess(deps.db, contact.id, website.id)) ||
      (!pending &&
        s.registrationEnabled &&
        s.openRegistrationEnabled &&
        (await grantOpenRegistrationAccess(deps, contact.id, website.id, ctx.client.ip)));
    if (pending) return { confirm: contact, verified: !access };
    if (!access) return { refused: 'no-account' };
    await recordSignIn(deps, contact.id);
    return { signedIn: contact, redeemed: false };
  }
  if (!pending) return { refused: ctx.pending ? 'not-redeemable' : 'no-account' };
  try {
    const r = await redeemInvitation(deps, {
      websiteId: website.id,
      code: pending,
      redeemer: { kind: 'external', identity },
      ipAddress: ctx.client.ip,
      userAgent: ctx.client.userAgent,
    });
    const contact = (await findContact(deps.db, r.contactId)) as Contact;
    if (!contact.emailConfirmed && contact.email && s.emailConfirmationEnabled)
      await mailToken(deps, website, contact, 'confirm-email', contact.email);
    await recordSignIn(deps, contact.id);
    return { signedIn: contact, redeemed: true };
  } catch (err) {
    if (err instanceof ExistingContactProven) {
      const contact = await findContact(deps.db, err.contactId);
      if (contact) return { confirm: contact, verified: true, link: identity };
    }
    if (err instanceof ExternalEmailMismatch)
      return { mismatch: { invited: err.invitedHint, provider: err.providerHint } };
    const refused = refusalOf(err);
    if (refused) return { refused };
    throw err;
  }
}

const refusalOf = (err: unknown) => {
  if (!(err instanceof AppError)) return null;
  if (err.code === 'ACCOUNT_EXISTS') return 'account-exists' as const;
  if (err.code === 'INVITATION_FOR_INVITED_ONLY') return 'invited-only' as const;
  if (err.code === 'INVITATION_NOT_REDEEMABLE') return 'not-redeemable' as const;
  return null;
};
