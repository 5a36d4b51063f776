import type { FormEvent } from 'react';
import { api, isAdministrator, type Json } from './api.ts';
import { Scroll } from './Scroll.tsx';

/**
 * A website's identity providers (OpenID Connect): the table, with enable, disable and delete, and
 * the form that adds or edits one. The client secret is write-only: the form never shows it, and
 * leaving it empty on edit keeps the stored one.
 */
export function IdentityProviders({
  website,
  providers,
  editing,
  onEdit,
  run,
}: {
  website: Json;
  providers: Json[];
  editing: Json | null;
  onEdit: (p: Json | null) => void;
  run: (work: () => Promise<unknown>, done: string, confirm?: string) => Promise<void>;
}) {
  return (
    <>
      <h2>Identity providers</h2>
      <p className="hint">
        Contacts can continue with their own account at these providers (OpenID Connect: Microsoft Entra,
        Google, Okta…) on the sign-in, register and redeem pages
        {website.settings.externalLoginEnabled ? '' : ' once External sign-in is switched on above'}. Register
        this redirect URI with each provider: <code>{`${website.baseUrl}/oidc/callback`}</code>
      </p>
      {providers.length > 0 && (
        <Scroll label="Identity providers">
          <table>
            <caption className="visually-hidden">Identity providers</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Issuer</th>
                <th scope="col">Verified emails</th>
                <th scope="col">Linked contacts</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {providers.map((p) => (
                <tr key={p.id}>
                  <td>
                    {p.displayName}
                    {!p.enabled && <span className="muted"> (disabled)</span>}
                  </td>
                  <td className="wrap">{p.issuer}</td>
                  <td>{p.trustEmailVerified ? 'trusted' : 'not trusted'}</td>
                  <td>{p.linkedContacts}</td>
                  <td className="actions">
                    {isAdministrator() && (
                      <>
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Edit ${p.displayName}`}
                          onClick={() => onEdit(p)}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`${p.enabled ? 'Disable' : 'Enable'} ${p.displayName}`}
                          onClick={() =>
                            run(
                              async () =>
                                api('PATCH', `/identity-providers/${p.id}`, { enabled: !p.enabled }),
                              `${p.enabled ? 'Disabled' : 'Enabled'} ${p.displayName}.`,
                              p.enabled
                                ? `Disable ${p.displayName}? Its button leaves the portal, and its ${p.linkedContacts} linked contacts cannot sign in with it until it is enabled again.`
                                : undefined,
                            )
                          }
                        >
                          {p.enabled ? 'Disable' : 'Enable'}
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Delete ${p.displayName}`}
                          onClick={() =>
                            run(
                              async () => api('DELETE', `/identity-providers/${p.id}`),
                              `Deleted ${p.displayName}.`,
                              `Delete the identity provider ${p.displayName}?`,
                            )
                          }
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
      {editing && (
        <ProviderForm
          key={editing.id}
          provider={editing}
          onCancel={() => onEdit(null)}
          run={run}
          websiteId={website.id}
          onSaved={() => onEdit(null)}
        />
      )}
      {isAdministrator() ? (
        <>
          <h3>Add an identity provider</h3>
          <ProviderForm run={run} websiteId={website.id} />
        </>
      ) : (
        <p className="hint">Only administrators add or change identity providers.</p>
      )}
    </>
  );
}

function ProviderForm({
  provider,
  websiteId,
  run,
  onCancel,
  onSaved,
}: {
  provider?: Json;
  websiteId: string;
  run: (work: () => Promise<unknown>, done: string, confirm?: string) => Promise<void>;
  onCancel?: () => void;
  onSaved?: () => void;
}) {
  const p = provider ? 'idp-edit-' : 'idp-new-';
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const text = (k: string) => String(form.get(k) ?? '').trim();
    const secret = String(form.get('clientSecret') ?? '');
    const body: Json = {
      displayName: text('displayName'),
      issuer: text('issuer'),
      clientId: text('clientId'),
      scopes: text('scopes').split(/\s+/).filter(Boolean),
      trustEmailVerified: form.get('trustEmailVerified') === 'on',
      enabled: form.get('enabled') === 'on',
    };
    if (text('buttonLabel')) body.buttonLabel = text('buttonLabel');
    if (secret || !provider) body.clientSecret = secret;
    void run(
      async () => {
        if (provider) await api('PATCH', `/identity-providers/${provider.id}`, body);
        else await api('POST', `/websites/${websiteId}/identity-providers`, body);
        if (provider) onSaved?.();
        else el.reset();
      },
      `${provider ? 'Saved' : 'Added'} ${body.displayName}.`,
      body.trustEmailVerified && !provider?.trustEmailVerified
        ? `Trust ${body.displayName}'s verified emails? A verified email then proves an inbox: it redeems Single invitations sent to that address. Trust only a provider whose users cannot set their own email.`
        : undefined,
    );
  };
  return (
    <form
      onSubmit={submit}
      noValidate
      className={provider ? 'panel' : undefined}
      aria-label={provider ? `Edit ${provider.displayName}` : 'New identity provider'}
    >
      <label htmlFor={`${p}displayName`}>Display name</label>
      <input id={`${p}displayName`} name="displayName" defaultValue={provider?.displayName} />
      <label htmlFor={`${p}buttonLabel`}>Button label (empty: “Continue with” and the name)</label>
      <input id={`${p}buttonLabel`} name="buttonLabel" defaultValue={provider?.buttonLabel} />
      <label htmlFor={`${p}issuer`}>Issuer URL (its discovery document is read from it)</label>
      <input
        id={`${p}issuer`}
        name="issuer"
        type="url"
        placeholder="https://login.microsoftonline.com/{tenant}/v2.0"
        defaultValue={provider?.issuer}
      />
      <label htmlFor={`${p}clientId`}>Client ID</label>
      <input id={`${p}clientId`} name="clientId" defaultValue={provider?.clientId} />
      <label htmlFor={`${p}clientSecret`}>
        Client secret{provider ? ' (stored; leave empty to keep it)' : ''}
      </label>
      <input id={`${p}clientSecret`} name="clientSecret" type="password" autoComplete="new-password" />
      <label htmlFor={`${p}scopes`}>Scopes (separated by spaces; openid is required)</label>
      <input
        id={`${p}scopes`}
        name="scopes"
        defaultValue={(provider?.scopes ?? ['openid', 'email', 'profile']).join(' ')}
      />
      <label className="inline">
        <input
          type="checkbox"
          name="trustEmailVerified"
          defaultChecked={provider?.trustEmailVerified ?? false}
        />{' '}
        Trust its verified emails: an email it marks verified proves the contact's inbox
      </label>
      <label className="inline">
        <input type="checkbox" name="enabled" defaultChecked={provider?.enabled ?? true} /> Enabled: its
        button shows on the portal
      </label>
      <div className="row">
        <button type="submit">{provider ? 'Save provider' : 'Add provider'}</button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
