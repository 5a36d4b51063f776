import type { Selectable } from 'kysely';
import type { Conn } from '../../db/database.ts';
import type { IdentityProvidersTable } from '../../db/schema.ts';
import { bool, flag, instant } from '../../db/values.ts';

/** An identity provider as stored; `sealedSecret` opens only on the server (secret-box.ts). */
export interface IdentityProviderRow {
  id: string;
  websiteId: string;
  protocol: 'oidc';
  displayName: string;
  buttonLabel: string;
  issuer: string;
  clientId: string;
  sealedSecret: string;
  scopes: string[];
  trustEmailVerified: boolean;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

const toRow = (r: Selectable<IdentityProvidersTable>): IdentityProviderRow => ({
  id: r.id,
  websiteId: r.website_id,
  protocol: r.protocol,
  displayName: r.display_name,
  buttonLabel: r.button_label,
  issuer: r.issuer,
  clientId: r.client_id,
  sealedSecret: r.client_secret,
  scopes: r.scopes.split(' ').filter((s) => s !== ''),
  trustEmailVerified: flag(r.trust_email_verified),
  enabled: flag(r.enabled),
  createdAt: instant(r.created_at),
  updatedAt: instant(r.updated_at),
});

const columns = (p: IdentityProviderRow) => ({
  protocol: p.protocol,
  display_name: p.displayName,
  button_label: p.buttonLabel,
  issuer: p.issuer,
  client_id: p.clientId,
  client_secret: p.sealedSecret,
  scopes: p.scopes.join(' '),
  trust_email_verified: bool(p.trustEmailVerified),
  enabled: bool(p.enabled),
  updated_at: p.updatedAt,
});

export async function findIdentityProvider(conn: Conn, id: string): Promise<IdentityProviderRow | undefined> {
  const r = await conn.selectFrom('identity_providers').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toRow(r);
}

/** A website's providers, in the order they were added (the order of the portal's buttons). */
export async function findIdentityProvidersOfWebsite(
  conn: Conn,
  websiteId: string,
  q: { enabledOnly?: boolean } = {},
): Promise<IdentityProviderRow[]> {
  let query = conn.selectFrom('identity_providers').selectAll().where('website_id', '=', websiteId);
  if (q.enabledOnly) query = query.where('enabled', '=', bool(true));
  return (await query.orderBy('id').execute()).map(toRow);
}

export async function insertIdentityProvider(conn: Conn, p: IdentityProviderRow): Promise<void> {
  await conn
    .insertInto('identity_providers')
    .values({ id: p.id, website_id: p.websiteId, created_at: p.createdAt, ...columns(p) })
    .execute();
}

export async function updateIdentityProvider(conn: Conn, p: IdentityProviderRow): Promise<void> {
  await conn.updateTable('identity_providers').set(columns(p)).where('id', '=', p.id).execute();
}

export async function deleteIdentityProvider(conn: Conn, id: string): Promise<void> {
  await conn.deleteFrom('identity_providers').where('id', '=', id).execute();
}

/** How many contacts are linked through the provider. */
export async function countLinksOfProvider(conn: Conn, id: string): Promise<number> {
  const r = await conn
    .selectFrom('external_logins')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('provider_id', '=', id)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
