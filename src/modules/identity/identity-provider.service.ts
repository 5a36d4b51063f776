import type { Actor, Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { inUseOr, uniqueOr } from '../../db/dialect.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
import { isId, newId } from '../../ids.ts';
import { open, seal } from '../../secret-box.ts';
import { recordAudit } from '../events/event.ts';
import { getWebsite, type Website } from '../websites/website.ts';
import * as repo from './identity-provider.repository.ts';
import { ProviderUnavailable } from './oidc.client.ts';

/**
 * The identity providers of a website's portal (SPEC 5, external identity providers): OpenID
 * Connect clients, each with its issuer, client id and a client secret that is sealed before it is
 * stored and never returned. The portal offers the enabled ones as "Continue with …" buttons
 * (portal/external.routes.ts).
 */
export interface IdentityProvider {
  id: string;
  websiteId: string;
  protocol: 'oidc';
  displayName: string;
  buttonLabel: string;
  issuer: string;
  clientId: string;
  hasClientSecret: true;
  scopes: string[];
  trustEmailVerified: boolean;
  enabled: boolean;
  redirectUri: string;
  linkedContacts: number;
  createdAt: string;
  updatedAt: string;
}

export interface IdentityProviderInput {
  protocol?: 'oidc';
  displayName: string;
  buttonLabel?: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes?: string[];
  trustEmailVerified?: boolean;
  enabled?: boolean;
}

export const DEFAULT_SCOPES = ['openid', 'email', 'profile'];

/** The portal's one callback; the session that started a flow knows its provider (portal/external.routes.ts). */
export const redirectUriOf = (website: Pick<Website, 'baseUrl'>) => `${website.baseUrl}/oidc/callback`;

/** The issuer as discovery needs it (absolute, https unless allowed, no query or fragment); throws 400. */
function normaliseIssuer(deps: Deps, raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw invalid('/issuer', 'issuer must be an absolute URL such as https://login.example.com');
  }
  const httpAllowed = deps.config.oidcAllowHttp && u.protocol === 'http:';
  if (u.protocol !== 'https:' && !httpAllowed)
    throw invalid(
      '/issuer',
      'issuer must be an https URL (plain http is allowed only with ADMIT_OIDC_ALLOW_HTTP=true)',
    );
  if (u.username || u.password || u.search || u.hash)
    throw invalid('/issuer', 'issuer must not carry credentials, a query or a fragment');
  if (u.href.length > 2000)
    throw invalid('/issuer', 'issuer must be at most 2000 characters, percent-encoded');
  return u.href;
}

function checkScopes(scopes: string[]): string[] {
  if (!scopes.includes('openid')) throw invalid('/scopes', 'scopes must include openid');
  if (scopes.join(' ').length > 500)
    throw invalid('/scopes', 'scopes must be at most 500 characters together');
  return scopes;
}

const nameTaken = (name: string) => () =>
  new AppError(
    'IDENTITY_PROVIDER_NAME_TAKEN',
    `The website already has an identity provider named "${name}".`,
  );

async function present(deps: Deps, conn: Conn, p: repo.IdentityProviderRow): Promise<IdentityProvider> {
  const website = await getWebsite(deps, p.websiteId, conn);
  const { sealedSecret: _, ...shown } = p;
  return {
    ...shown,
    hasClientSecret: true,
    redirectUri: redirectUriOf(website),
    linkedContacts: await repo.countLinksOfProvider(conn, p.id),
  };
}

/** What the audit trail keeps of a change: never the secret, only that it changed. */
const audited = (input: Partial<IdentityProviderInput>) => ({
  ...input,
  clientSecret: input.clientSecret === undefined ? undefined : '[changed]',
});

export async function createIdentityProvider(
  deps: Deps,
  actor: Actor,
  websiteId: string,
  input: IdentityProviderInput,
): Promise<IdentityProvider> {
  const at = deps.now().toISOString();
  const id = newId();
  const row: repo.IdentityProviderRow = {
    id,
    websiteId,
    protocol: 'oidc',
    displayName: input.displayName,
    buttonLabel: input.buttonLabel ?? `Continue with ${input.displayName}`,
    issuer: normaliseIssuer(deps, input.issuer),
    clientId: input.clientId,
    sealedSecret: seal(deps.keys.identityProviderSecret, input.clientSecret, id),
    scopes: checkScopes(input.scopes ?? DEFAULT_SCOPES),
    trustEmailVerified: input.trustEmailVerified ?? false,
    enabled: input.enabled ?? true,
    createdAt: at,
    updatedAt: at,
  };
  return uniqueOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        await getWebsite(deps, websiteId, trx);
        await repo.insertIdentityProvider(trx, row);
        await recordAudit(
          trx,
          deps,
          actor,
          'identity_provider.created',
          { type: 'identity_provider', id },
          { websiteId, ...audited(input) },
        );
        return present(deps, trx, row);
      }),
    nameTaken(input.displayName),
  );
}

export async function listIdentityProviders(deps: Deps, websiteId: string): Promise<IdentityProvider[]> {
  await getWebsite(deps, websiteId);
  const rows = await repo.findIdentityProvidersOfWebsite(deps.db, websiteId);
  return Promise.all(rows.map((r) => present(deps, deps.db, r)));
}

export async function getIdentityProvider(deps: Deps, id: string): Promise<IdentityProvider> {
  const p = await repo.findIdentityProvider(deps.db, id);
  if (!p) throw notFound('identity provider', id);
  return present(deps, deps.db, p);
}

export async function updateIdentityProvider(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: Partial<Omit<IdentityProviderInput, 'protocol'>>,
): Promise<IdentityProvider> {
  return uniqueOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findIdentityProvider(trx, id);
        if (!current) throw notFound('identity provider', id);
        const next: repo.IdentityProviderRow = {
          ...current,
          displayName: patch.displayName ?? current.displayName,
          buttonLabel: patch.buttonLabel ?? current.buttonLabel,
          issuer: patch.issuer === undefined ? current.issuer : normaliseIssuer(deps, patch.issuer),
          clientId: patch.clientId ?? current.clientId,
          sealedSecret:
            patch.clientSecret === undefined
              ? current.sealedSecret
              : seal(deps.keys.identityProviderSecret, patch.clientSecret, id),
          scopes: patch.scopes === undefined ? current.scopes : checkScopes(patch.scopes),
          trustEmailVerified: patch.trustEmailVerified ?? current.trustEmailVerified,
          enabled: patch.enabled ?? current.enabled,
          updatedAt: deps.now().toISOString(),
        };
        await repo.updateIdentityProvider(trx, next);
        await recordAudit(
          trx,
          deps,
          actor,
          'identity_provider.updated',
          { type: 'identity_provider', id },
          { changes: audited(patch) },
        );
        return present(deps, trx, next);
      }),
    nameTaken(patch.displayName ?? ''),
  );
}

/** Deletes a provider nobody signs in with; 409 IN_USE while a contact is linked to it. */
export async function deleteIdentityProvider(deps: Deps, actor: Actor, id: string): Promise<void> {
  await inUseOr(
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await repo.findIdentityProvider(trx, id);
        if (!current) throw notFound('identity provider', id);
        await repo.deleteIdentityProvider(trx, id);
        await recordAudit(
          trx,
          deps,
          actor,
          'identity_provider.deleted',
          { type: 'identity_provider', id },
          { websiteId: current.websiteId, displayName: current.displayName },
        );
      }),
    () =>
      new AppError(
        'IN_USE',
        'Contacts sign in with this identity provider. Disable it instead, or unlink it from those contacts first (DELETE /contacts/{id}/external-logins/{loginId}).',
      ),
  );
}

/** A provider the portal may start a flow with: enabled, of this website, with its secret opened. */
export interface FlowProvider extends Omit<repo.IdentityProviderRow, 'sealedSecret'> {
  clientSecret: string;
}

/** The website's enabled providers, for the portal's buttons (no secrets). */
export async function portalProvidersOf(
  deps: Deps,
  websiteId: string,
): Promise<{ id: string; buttonLabel: string; displayName: string }[]> {
  const rows = await repo.findIdentityProvidersOfWebsite(deps.db, websiteId, { enabledOnly: true });
  return rows.map((r) => ({ id: r.id, buttonLabel: r.buttonLabel, displayName: r.displayName }));
}

/**
 * The enabled provider `id` of the website, secret opened; undefined when there is none. A secret
 * that does not open (ADMIT_SECRET changed) throws ProviderUnavailable: the provider is unusable
 * until the secret is entered again.
 */
export async function findFlowProvider(
  deps: Deps,
  websiteId: string,
  id: string,
): Promise<FlowProvider | undefined> {
  const p = isId(id) ? await repo.findIdentityProvider(deps.db, id) : undefined;
  if (!p || p.websiteId !== websiteId || !p.enabled) return undefined;
  const clientSecret = open(deps.keys.identityProviderSecret, p.sealedSecret, p.id);
  if (clientSecret === null)
    throw new ProviderUnavailable(
      'its stored client secret does not open under this ADMIT_SECRET: enter the secret again',
    );
  const { sealedSecret: _, ...rest } = p;
  return { ...rest, clientSecret };
}
