import { type ExpressionBuilder, type Selectable, sql } from 'kysely';
import { insertMany } from '../../db/bulk.ts';
import type { Conn } from '../../db/database.ts';
import { expiryClock, isPostgres } from '../../db/dialect.ts';
import type { Database, InvitationsTable, InviteRedemptionsTable } from '../../db/schema.ts';
import { bool, flag, instant, likeContains } from '../../db/values.ts';
import { searchMatches } from '../contacts/contact.ts';
import type { InvitationState, InvitationStatus, InvitationType, StatusReason } from './invitation.rules.ts';

/** An invitation row, without its contact and role lists. */
export interface InvitationRow {
  id: string;
  name: string;
  type: InvitationType;
  websiteId: string;
  ownerId: string;
  inviterContactId: string | null;
  expiresAt: string | null;
  assignToAccountId: string | null;
  redemptionWorkflowId: string | null;
  maxRedemptions: number;
  redemptionCount: number;
  /** Group only: only the invited contacts may redeem it. */
  invitedContactsOnly: boolean;
  state: InvitationState;
  statusReason: StatusReason;
  codeVersion: number;
  lastSentAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface InviteRedemption {
  id: string;
  invitationId: string;
  contactId: string;
  username: string | null;
  method: 'register' | 'signin' | 'external';
  /** The identity provider of an `external` redemption. */
  identityProviderId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: string;
}

export interface Relations {
  invitedContactIds: string[];
  webRoleIds: string[];
  redeemedContactIds: string[];
}

const toRow = (r: Selectable<InvitationsTable>): InvitationRow => ({
  id: r.id,
  name: r.name,
  type: r.type,
  websiteId: r.website_id,
  ownerId: r.owner_id,
  inviterContactId: r.inviter_contact_id,
  expiresAt: instant(r.expires_at),
  assignToAccountId: r.assign_to_account_id,
  redemptionWorkflowId: r.redemption_workflow_id,
  maxRedemptions: r.max_redemptions,
  redemptionCount: r.redemption_count,
  invitedContactsOnly: flag(r.invited_contacts_only),
  state: r.state,
  statusReason: r.status_reason,
  codeVersion: r.code_version,
  lastSentAt: instant(r.last_sent_at),
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const toRedemption = (r: Selectable<InviteRedemptionsTable>): InviteRedemption => ({
  id: r.id,
  invitationId: r.invitation_id,
  contactId: r.contact_id,
  username: r.username,
  method: r.method,
  identityProviderId: r.identity_provider_id,
  ipAddress: r.ip_address,
  userAgent: r.user_agent,
  createdAt: instant(r.created_at),
});

const editable = (i: InvitationRow) => ({
  name: i.name,
  owner_id: i.ownerId,
  inviter_contact_id: i.inviterContactId,
  expires_at: i.expiresAt,
  assign_to_account_id: i.assignToAccountId,
  redemption_workflow_id: i.redemptionWorkflowId,
  max_redemptions: i.maxRedemptions,
  invited_contacts_only: bool(i.invitedContactsOnly),
  state: i.state,
  status_reason: i.statusReason,
  updated_at: i.updatedAt,
});

const INVITATION_COLUMNS = {
  id: 'text',
  name: 'text',
  type: 'text',
  website_id: 'text',
  owner_id: 'text',
  inviter_contact_id: 'text',
  expires_at: 'timestamptz',
  assign_to_account_id: 'text',
  redemption_workflow_id: 'text',
  max_redemptions: 'int',
  redemption_count: 'int',
  invited_contacts_only: 'boolean',
  state: 'text',
  status_reason: 'text',
  code_hash: 'text',
  code_version: 'int',
  last_sent_at: 'timestamptz',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
};

export async function insertInvitations(
  conn: Conn,
  rows: readonly { row: InvitationRow; codeHash: string }[],
): Promise<void> {
  await insertMany(
    conn,
    'invitations',
    INVITATION_COLUMNS,
    rows.map(({ row: i, codeHash }) => ({
      id: i.id,
      type: i.type,
      website_id: i.websiteId,
      redemption_count: i.redemptionCount,
      code_hash: codeHash,
      code_version: i.codeVersion,
      last_sent_at: i.lastSentAt,
      created_at: i.createdAt,
      ...editable(i),
    })),
  );
}

/** (invitation, contact) and (invitation, web role) pairs of new invitations, in batches. */
export async function insertInvitationLinks(
  conn: Conn,
  invited: readonly { invitation_id: string; contact_id: string }[],
  roles: readonly { invitation_id: string; web_role_id: string }[],
): Promise<void> {
  await insertMany(
    conn,
    'invitation_invited_contacts',
    { invitation_id: 'text', contact_id: 'text' },
    invited,
  );
  await insertMany(conn, 'invitation_web_roles', { invitation_id: 'text', web_role_id: 'text' }, roles);
}

export async function findInvitationsByIds(conn: Conn, ids: readonly string[]): Promise<InvitationRow[]> {
  const out: InvitationRow[] = [];
  for (let k = 0; k < ids.length; k += 500) {
    const rows = await conn
      .selectFrom('invitations')
      .selectAll()
      .where('id', 'in', ids.slice(k, k + 500))
      .execute();
    for (const r of rows) out.push(toRow(r));
  }
  return out;
}

/** After messages of these invitations were accepted: status reason `sent` (from `new`), last sent now. */
export async function markSent(conn: Conn, ids: readonly string[], at: string): Promise<void> {
  if (ids.length === 0) return;
  await conn
    .updateTable('invitations')
    .set({
      last_sent_at: at,
      status_reason: sql<StatusReason>`case when status_reason = 'new' then 'sent' else status_reason end`,
    })
    .where('id', 'in', ids)
    .execute();
}

export async function updateInvitation(conn: Conn, i: InvitationRow): Promise<void> {
  await conn.updateTable('invitations').set(editable(i)).where('id', '=', i.id).execute();
}

export async function replaceInvitedContacts(
  conn: Conn,
  id: string,
  contactIds: readonly string[],
): Promise<void> {
  await conn.deleteFrom('invitation_invited_contacts').where('invitation_id', '=', id).execute();
  if (contactIds.length === 0) return;
  await conn
    .insertInto('invitation_invited_contacts')
    .values(contactIds.map((contact_id) => ({ invitation_id: id, contact_id })))
    .execute();
}

export async function replaceWebRoles(conn: Conn, id: string, roleIds: readonly string[]): Promise<void> {
  await conn.deleteFrom('invitation_web_roles').where('invitation_id', '=', id).execute();
  if (roleIds.length === 0) return;
  await conn
    .insertInto('invitation_web_roles')
    .values(roleIds.map((web_role_id) => ({ invitation_id: id, web_role_id })))
    .execute();
}

export async function findInvitation(conn: Conn, id: string): Promise<InvitationRow | undefined> {
  const r = await conn.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toRow(r);
}

/**
 * An invitation as a redemption sees it: `expiredNow` is decided by the database's clock on
 * PostgreSQL (db/dialect.ts `expiryClock`), so two processes with skewed clocks agree.
 */
export interface RedeemableRow extends InvitationRow {
  expiredNow: boolean;
}

const expiredNow = (conn: Conn, at: string) =>
  sql<number>`(case when invitations.expires_at is not null and invitations.expires_at <= ${expiryClock(conn, at)} then 1 else 0 end)`.as(
    'expired_now',
  );

/** The invitation a code hash names, with whether it has expired at `at` (see RedeemableRow). */
export async function findInvitationByCodeHash(
  conn: Conn,
  codeHash: string,
  at: string,
): Promise<RedeemableRow | undefined> {
  const r = await conn
    .selectFrom('invitations')
    .selectAll()
    .select(expiredNow(conn, at))
    .where('code_hash', '=', codeHash)
    .executeTakeFirst();
  return r && { ...toRow(r), expiredNow: flag(Number(r.expired_now)) };
}

/**
 * The invitation a code hash names, with its three lists, in one query (the redemption's read: one
 * round trip, not two). The lists come back as comma-separated ids (ids hold no commas), sorted
 * here; `lock` takes the invitation's row lock on PostgreSQL.
 */
export async function findByCodeHashWithRelations(
  conn: Conn,
  codeHash: string,
  at: string,
  options: { lock?: boolean } = {},
): Promise<{ invitation: RedeemableRow; relations: Relations } | undefined> {
  const pg = isPostgres(conn);
  const ids = (table: string, column: string) =>
    sql<
      string | null
    >`(select ${pg ? sql`string_agg` : sql`group_concat`}(${sql.ref(column)}, ',') from ${sql.table(table)} l where l.invitation_id = invitations.id)`;
  let q = conn
    .selectFrom('invitations')
    .selectAll()
    .select([
      ids('invitation_invited_contacts', 'contact_id').as('invited_ids'),
      ids('invitation_web_roles', 'web_role_id').as('role_ids'),
      ids('invitation_redeemed_contacts', 'contact_id').as('redeemed_ids'),
      expiredNow(conn, at),
    ])
    .where('code_hash', '=', codeHash);
  if (options.lock && pg) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  if (!r) return undefined;
  const list = (s: string | null) => (s ? s.split(',').sort() : []);
  return {
    invitation: { ...toRow(r), expiredNow: flag(Number(r.expired_now)) },
    relations: {
      invitedContactIds: list(r.invited_ids),
      webRoleIds: list(r.role_ids),
      redeemedContactIds: list(r.redeemed_ids),
    },
  };
}

/** The SQL form of `deriveStatus`, for filtering lists by derived status. */
function statusCondition(status: InvitationStatus, now: string) {
  return (eb: ExpressionBuilder<Database, 'invitations'>) => {
    const active = eb('state', '=', 'active');
    const notUsedUp = eb('redemption_count', '<', eb.ref('max_redemptions'));
    const notExpired = eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);
    switch (status) {
      case 'inactive':
        return eb('state', '=', 'inactive');
      case 'redeemed':
        return eb.and([active, eb('redemption_count', '>=', eb.ref('max_redemptions'))]);
      case 'expired':
        return eb.and([active, notUsedUp, eb('expires_at', 'is not', null), eb('expires_at', '<=', now)]);
      case 'new':
        return eb.and([active, notUsedUp, notExpired, eb('status_reason', '=', 'new')]);
      case 'sent':
        return eb.and([active, notUsedUp, notExpired, eb('status_reason', '!=', 'new')]);
    }
  };
}

/** How a list of invitations is ordered: newest first (the default), oldest first, or by name. */
export type InvitationSort = 'newest' | 'oldest' | 'name';

const NAME_KEY = sql<string>`lower(invitations.name)`;

/**
 * A page of invitations in `sort` order, after the cursor: an id (`after`) for newest and oldest
 * first, the last row's name key and id (`afterKey`) by name. Each row carries its `sortKey`.
 */
export async function findInvitations(
  conn: Conn,
  q: {
    websiteId?: string;
    contactId?: string;
    status?: InvitationStatus;
    search?: string;
    sort?: InvitationSort;
    after?: string;
    afterKey?: { key: string; id: string };
    limit: number;
    now: string;
  },
): Promise<(InvitationRow & { sortKey: string })[]> {
  let query = conn.selectFrom('invitations').selectAll().select(NAME_KEY.as('sort_key')).limit(q.limit);
  const sort = q.sort ?? 'newest';
  if (sort === 'name') {
    query = query.orderBy(NAME_KEY).orderBy('id');
    if (q.afterKey)
      query = query.where(sql<boolean>`(${NAME_KEY}, id) > (${q.afterKey.key}, ${q.afterKey.id})`);
  } else {
    query = query.orderBy('id', sort === 'oldest' ? 'asc' : 'desc');
    if (q.after) query = query.where('id', sort === 'oldest' ? '>' : '<', q.after);
  }
  if (q.websiteId) query = query.where('website_id', '=', q.websiteId);
  if (q.status) query = query.where(statusCondition(q.status, q.now));
  if (q.search) {
    const search = q.search;
    // The invitation's name, or one of its invited contacts by name or email (the contact search),
    // tested row by row through the invitation's own contacts: the newest rows are read first and
    // the page ends at its limit, so a word every contact has costs no more than a rare one.
    query = query.where((eb) =>
      eb.or([
        sql<boolean>`lower(invitations.name) like ${likeContains(search)} escape '\\'`,
        eb.exists(
          eb
            .selectFrom('invitation_invited_contacts as ic')
            .innerJoin('contacts', 'contacts.id', 'ic.contact_id')
            .select('ic.contact_id')
            .whereRef('ic.invitation_id', '=', 'invitations.id')
            .where(searchMatches(search)),
        ),
      ]),
    );
  }
  if (q.contactId) {
    const contactId = q.contactId;
    query = query.where((eb) =>
      eb.or([
        eb(
          'id',
          'in',
          eb
            .selectFrom('invitation_invited_contacts')
            .select('invitation_id')
            .where('contact_id', '=', contactId),
        ),
        eb(
          'id',
          'in',
          eb
            .selectFrom('invitation_redeemed_contacts')
            .select('invitation_id')
            .where('contact_id', '=', contactId),
        ),
      ]),
    );
  }
  return (await query.execute()).map((r) => ({ ...toRow(r), sortKey: r.sort_key }));
}

/** The contact and role lists of many invitations, three queries in all. */
export async function findRelations(conn: Conn, all: readonly string[]): Promise<Map<string, Relations>> {
  const map = new Map<string, Relations>(
    all.map((id) => [id, { invitedContactIds: [], webRoleIds: [], redeemedContactIds: [] }]),
  );
  for (let k = 0; k < all.length; k += 500) await addRelations(conn, all.slice(k, k + 500), map);
  return map;
}

/** The three link tables in one round trip (a UNION ALL), sorted here as each list is presented. */
async function addRelations(conn: Conn, ids: readonly string[], map: Map<string, Relations>): Promise<void> {
  const list = sql.join(ids);
  // The redeemed branch comes first: its timestamp column types the NULLs of the others.
  const { rows } = await sql<{
    kind: 'i' | 'r' | 'd';
    invitation_id: string;
    other: string;
    at: string | Date | null;
  }>`
    select 'd' as kind, invitation_id, contact_id as other, redeemed_at as at from invitation_redeemed_contacts where invitation_id in (${list})
    union all
    select 'i', invitation_id, contact_id, null from invitation_invited_contacts where invitation_id in (${list})
    union all
    select 'r', invitation_id, web_role_id, null from invitation_web_roles where invitation_id in (${list})`.execute(
    conn,
  );
  const byOther = (a: { other: string }, b: { other: string }) =>
    a.other < b.other ? -1 : a.other > b.other ? 1 : 0;
  const of = (kind: string) => rows.filter((r) => r.kind === kind);
  for (const r of of('i').sort(byOther)) map.get(r.invitation_id)?.invitedContactIds.push(r.other);
  for (const r of of('r').sort(byOther)) map.get(r.invitation_id)?.webRoleIds.push(r.other);
  const redeemed = of('d').map((r) => ({ ...r, t: r.at === null ? '' : instant(r.at) }));
  redeemed.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : byOther(a, b)));
  for (const r of redeemed) map.get(r.invitation_id)?.redeemedContactIds.push(r.other);
}

export async function setCode(
  conn: Conn,
  id: string,
  codeVersion: number,
  codeHash: string,
  at: string,
): Promise<void> {
  await conn
    .updateTable('invitations')
    .set({ code_version: codeVersion, code_hash: codeHash, updated_at: at })
    .where('id', '=', id)
    .execute();
}

export async function deleteInvitation(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('invitations').where('id', '=', id).execute();
}

/**
 * The atomic heart of redemption: takes one slot only while the invitation is active, unexpired and
 * below its maximum, and sets the status reason when the last slot goes. Concurrent callers are
 * serialised by the row lock (PostgreSQL) or the single writer (SQLite), so the count can never pass
 * the maximum. Changes no row when no slot is left.
 */
export const claimRedemptionSlotWrite = (conn: Conn, id: string, now: string) =>
  conn
    .updateTable('invitations')
    .set((eb) => ({
      redemption_count: eb('redemption_count', '+', 1),
      status_reason: sql<StatusReason>`case when redemption_count + 1 >= max_redemptions then 'redeemed' else status_reason end`,
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('state', '=', 'active')
    .where('redemption_count', '<', (eb) => eb.ref('max_redemptions'))
    .where(sql<boolean>`(expires_at is null or expires_at > ${expiryClock(conn, now)})`)
    .compile();

/**
 * Records "this contact redeemed this invitation"; changes no row if it already had (the primary
 * key).
 */
export const insertRedeemedContactWrite = (conn: Conn, id: string, contactId: string, at: string) =>
  conn
    .insertInto('invitation_redeemed_contacts')
    .values({ invitation_id: id, contact_id: contactId, redeemed_at: at })
    .onConflict((oc) => oc.columns(['invitation_id', 'contact_id']).doNothing())
    .compile();

/**
 * Sets the state; returns the redemption count the row had when the change was made (after any
 * redemption that committed first), or undefined if there is no such invitation.
 */
export async function setState(
  conn: Conn,
  id: string,
  state: InvitationState,
  statusReason: StatusReason,
  at: string,
): Promise<number | undefined> {
  const r = await conn
    .updateTable('invitations')
    .set({ state, status_reason: statusReason, updated_at: at })
    .where('id', '=', id)
    .returning('redemption_count')
    .executeTakeFirst();
  return r?.redemption_count;
}

export const insertInviteRedemptionWrite = (conn: Conn, r: InviteRedemption) =>
  conn
    .insertInto('invite_redemptions')
    .values({
      id: r.id,
      invitation_id: r.invitationId,
      contact_id: r.contactId,
      username: r.username,
      method: r.method,
      identity_provider_id: r.identityProviderId,
      ip_address: r.ipAddress,
      user_agent: r.userAgent,
      created_at: r.createdAt,
    })
    .compile();

/** Invite Redemption activities, newest first, of an invitation, a contact or a website's invitations. */
export async function findInviteRedemptions(
  conn: Conn,
  q: { invitationId?: string; contactId?: string; websiteId?: string; before?: string; limit: number },
): Promise<InviteRedemption[]> {
  let query = conn.selectFrom('invite_redemptions').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.invitationId) query = query.where('invitation_id', '=', q.invitationId);
  if (q.contactId) query = query.where('contact_id', '=', q.contactId);
  if (q.websiteId) {
    const websiteId = q.websiteId;
    query = query.where('invitation_id', 'in', (eb) =>
      eb.selectFrom('invitations').select('id').where('website_id', '=', websiteId),
    );
  }
  if (q.before) query = query.where('id', '<', q.before);
  return (await query.execute()).map(toRedemption);
}

/**
 * Serialises, until the transaction ends, the creations on one website that skip contacts holding
 * an open invitation, so that two at once cannot both find none and both create one. PostgreSQL
 * only: SQLite runs one write transaction at a time already.
 */
export async function lockOpenInvitationsOf(conn: Conn, websiteId: string): Promise<void> {
  if (isPostgres(conn))
    await sql`select pg_advisory_xact_lock(hashtext(${`admit.open-invitations:${websiteId}`}))`.execute(conn);
}

/** An open invitation a contact holds: new or sent, naming the contact, not yet redeemed by it. */
export interface OpenInvitation {
  contactId: string;
  invitationId: string;
  name: string;
}

/**
 * For each of these contacts that holds one, its newest open invitation to the website (status new
 * or sent: active, not used up, not expired at `now`; the contact invited and not among its
 * redeemers). Read from the contacts' side, each step by its own index, with the conditions applied
 * here: SQLite's planner, without statistics, otherwise walks every invitation of the website for
 * each contact (a bulk invitation's batches then grow slower as the website grows). A contact
 * invited nowhere costs one index probe.
 */
export async function findOpenInvitationsOf(
  conn: Conn,
  websiteId: string,
  contactIds: readonly string[],
  now: string,
): Promise<Map<string, OpenInvitation>> {
  const open = new Map<string, OpenInvitation>();
  const at = Date.parse(now);
  for (let k = 0; k < contactIds.length; k += 1000) {
    const links = await conn
      .selectFrom('invitation_invited_contacts')
      .select(['invitation_id', 'contact_id'])
      .where('contact_id', 'in', contactIds.slice(k, k + 1000))
      .execute();
    if (links.length === 0) continue;
    const ids = [...new Set(links.map((l) => l.invitation_id))];
    const invitations = new Map<string, { id: string; name: string }>();
    for (let j = 0; j < ids.length; j += 1000) {
      const rows = await conn
        .selectFrom('invitations')
        .select(['id', 'name', 'website_id', 'state', 'redemption_count', 'max_redemptions', 'expires_at'])
        .where('id', 'in', ids.slice(j, j + 1000))
        .execute();
      for (const r of rows)
        if (
          r.website_id === websiteId &&
          r.state === 'active' &&
          r.redemption_count < r.max_redemptions &&
          (r.expires_at === null || Date.parse(instant(r.expires_at)) > at)
        )
          invitations.set(r.id, { id: r.id, name: r.name });
    }
    if (invitations.size === 0) continue;
    const redeemed = new Set<string>();
    const openIds = [...invitations.keys()];
    for (let j = 0; j < openIds.length; j += 1000) {
      const rows = await conn
        .selectFrom('invitation_redeemed_contacts')
        .select(['invitation_id', 'contact_id'])
        .where('invitation_id', 'in', openIds.slice(j, j + 1000))
        .where('contact_id', 'in', contactIds.slice(k, k + 1000))
        .execute();
      for (const r of rows) redeemed.add(`${r.invitation_id} ${r.contact_id}`);
    }
    // Ascending ids: the newest invitation of a contact is set last.
    links.sort((a, b) =>
      a.invitation_id < b.invitation_id ? -1 : a.invitation_id > b.invitation_id ? 1 : 0,
    );
    for (const l of links) {
      const i = invitations.get(l.invitation_id);
      if (i && !redeemed.has(`${l.invitation_id} ${l.contact_id}`))
        open.set(l.contact_id, { contactId: l.contact_id, invitationId: i.id, name: i.name });
    }
  }
  return open;
}

/**
 * Of the contacts a contact search finds (every contact without one), how many hold an open
 * invitation to the website, and the first `examples` of those with the invitation each holds: two
 * queries, joined in the database, whatever the number of contacts.
 */
export async function countOpenInvitationsMatching(
  conn: Conn,
  websiteId: string,
  search: string | undefined,
  now: string,
  examples: number,
): Promise<{ count: number; examples: OpenInvitation[] }> {
  const holders = () => {
    const q = openInvitations(conn, websiteId, now);
    return search
      ? q.where('ic.contact_id', 'in', (eb) =>
          eb.selectFrom('contacts').select('id').where(searchMatches(search)),
        )
      : q;
  };
  const counted = await holders()
    .select(sql<number>`count(distinct ${sql.ref('ic.contact_id')})`.as('n'))
    .executeTakeFirstOrThrow();
  const some = await holders()
    .select(['ic.contact_id as contactId', 'i.id as invitationId', 'i.name as name'])
    .orderBy('i.id', 'desc')
    .limit(examples * 4)
    .execute();
  const first = new Map<string, OpenInvitation>();
  for (const r of some) if (!first.has(r.contactId) && first.size < examples) first.set(r.contactId, r);
  return { count: Number(counted.n), examples: [...first.values()] };
}

/** The (invited contact, invitation) pairs of open invitations to the website: see OpenInvitation. */
function openInvitations(conn: Conn, websiteId: string, now: string) {
  return conn
    .selectFrom('invitation_invited_contacts as ic')
    .innerJoin('invitations as i', 'i.id', 'ic.invitation_id')
    .where('i.website_id', '=', websiteId)
    .where('i.state', '=', 'active')
    .where((eb) =>
      eb.and([
        eb('i.redemption_count', '<', eb.ref('i.max_redemptions')),
        eb.or([eb('i.expires_at', 'is', null), eb('i.expires_at', '>', now)]),
        eb.not(
          eb.exists(
            eb
              .selectFrom('invitation_redeemed_contacts as rc')
              .select('rc.contact_id')
              .whereRef('rc.invitation_id', '=', 'i.id')
              .whereRef('rc.contact_id', '=', 'ic.contact_id'),
          ),
        ),
      ]),
    );
}
