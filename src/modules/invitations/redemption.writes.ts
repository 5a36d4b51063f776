import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import type { Write } from '../../db/write-batch.ts';
import {
  type Contact,
  grantWebsiteAccessWrite,
  grantWrites,
  linkExternalLoginWrite,
  saveContactWrite,
} from '../contacts/contact.ts';
import { auditWrites, eventPublishWrites } from '../events/event.ts';
import { redemptionRunWrites } from '../workflows/workflow.ts';
import { spendHeldRegistrationWrite } from './held-registration.ts';
import * as repo from './invitation.repository.ts';

const MAX_USER_AGENT = 512;

/** Everything one redemption writes, decided before the batch runs. */
export interface RedemptionRecord {
  invitation: repo.InvitationRow;
  webRoleIds: readonly string[];
  contact: Contact;
  /** True when the contact row is new (a Group registrant nobody had invited). */
  contactCreated: boolean;
  /**
   * Set when the redemption registers the contact: with a password (its hash), or through an
   * identity provider (no password).
   */
  registration: { passwordHash?: string; heldId: string | null } | null;
  /** A provider's subject the redemption links to the contact (`external_logins`, once). */
  link: { id: string; providerId: string; subject: string; email: string | null } | null;
  /** The identity provider of an external redemption. */
  identityProviderId: string | null;
  redemptionId: string;
  method: 'register' | 'signin' | 'external';
  username: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  at: string;
}

/**
 * The redemption's write batch (db/write-batch.ts), in the order the rows refer to each other. Two
 * statements decide, and either changing no row undoes all of it: the redeemed-contact row (unique
 * per invitation and contact; `REDEEMED_CONTACT`) and the slot, a conditional update (active,
 * unexpired by the database's clock, below the maximum; `SLOT`) that takes the invitation's row lock,
 * which concurrent redemptions of the same code wait for. A held registration is spent in the same
 * batch (`HELD`), so a confirmation link completes one redemption however often it is followed.
 *
 * The batch's restrictions shape it: no statement reads another's changes and none changes a row
 * twice, so a registrant's contact row is written once, already carrying the account it is given.
 */
export function redemptionWrites(conn: Conn, deps: Pick<Deps, 'now'>, r: RedemptionRecord): Write[] {
  const { invitation, contact, at } = r;
  const contactRow = r.registration
    ? { ...contact, parentAccountId: invitation.assignToAccountId ?? contact.parentAccountId }
    : contact;
  const actor = { type: 'contact' as const, id: contact.id, ip: r.ipAddress };
  return [
    ...(r.registration
      ? [saveContactWrite(conn, contactRow, r.contactCreated, r.registration.passwordHash)]
      : []),
    ...(r.registration?.heldId ? [spendHeldRegistrationWrite(conn, r.registration.heldId, at)] : []),
    ...(r.link
      ? [{ query: linkExternalLoginWrite(conn, { ...r.link, contactId: contact.id, at }), expect: 1 }]
      : []),
    { query: repo.insertRedeemedContactWrite(conn, invitation.id, contact.id, at), expect: 1 },
    ...grantWrites(conn, contact.id, {
      accountId: r.registration ? null : invitation.assignToAccountId,
      webRoleIds: r.webRoleIds,
      at,
    }),
    grantWebsiteAccessWrite(conn, {
      contactId: contact.id,
      websiteId: invitation.websiteId,
      source: 'redemption',
      at,
    }),
    repo.insertInviteRedemptionWrite(conn, {
      id: r.redemptionId,
      invitationId: invitation.id,
      contactId: contact.id,
      username: r.username,
      method: r.method,
      identityProviderId: r.identityProviderId,
      ipAddress: r.ipAddress,
      userAgent: r.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
      createdAt: at,
    }),
    ...auditWrites(
      conn,
      deps,
      actor,
      'invitation.redeemed',
      { type: 'invitation', id: invitation.id },
      {
        contactId: contact.id,
        method: r.method,
        identityProviderId: r.identityProviderId,
        redemptionId: r.redemptionId,
        assignedAccountId: invitation.assignToAccountId,
        webRoleIds: r.webRoleIds,
      },
    ),
    ...(r.link
      ? auditWrites(
          conn,
          deps,
          actor,
          'contact.external_login_linked',
          { type: 'contact', id: contact.id },
          { identityProviderId: r.link.providerId, externalLoginId: r.link.id, invitationId: invitation.id },
        )
      : []),
    ...(r.registration
      ? auditWrites(
          conn,
          deps,
          actor,
          'contact.registered',
          { type: 'contact', id: contact.id },
          {
            invitationId: invitation.id,
            websiteId: invitation.websiteId,
            method: registeredBy(r),
            identityProviderId: r.identityProviderId,
          },
        )
      : []),
    ...eventPublishWrites(conn, deps, [
      {
        type: 'invitation.redeemed',
        data: {
          invitationId: invitation.id,
          websiteId: invitation.websiteId,
          contactId: contact.id,
          method: r.method,
          identityProviderId: r.identityProviderId,
          webRoleIds: [...r.webRoleIds],
          assignedAccountId: invitation.assignToAccountId,
          redemptionCount: invitation.redemptionCount + 1,
        },
      },
      ...(r.registration
        ? [
            {
              type: 'contact.registered' as const,
              data: {
                contactId: contact.id,
                websiteId: invitation.websiteId,
                invitationId: invitation.id,
                method: registeredBy(r),
                identityProviderId: r.identityProviderId,
              },
            },
          ]
        : []),
    ]),
    ...runWritesOf(conn, r),
    { query: repo.claimRedemptionSlotWrite(conn, invitation.id, at), expect: 1 },
  ];
}

const registeredBy = (r: RedemptionRecord) => (r.link ? ('external' as const) : ('local' as const));

/** The redemption workflow's run ("Execute Workflow on Redeeming Contact"); it runs after commit. */
function runWritesOf(conn: Conn, r: RedemptionRecord) {
  const { invitation, contact } = r;
  if (!invitation.redemptionWorkflowId) return [];
  return redemptionRunWrites(conn, {
    workflowId: invitation.redemptionWorkflowId,
    contactId: contact.id,
    invitationId: invitation.id,
    websiteId: invitation.websiteId,
    at: r.at,
  });
}
