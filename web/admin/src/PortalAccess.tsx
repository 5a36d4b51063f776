import { useCallback, useEffect, useState } from 'react';
import { api, type Json } from './api.ts';
import { useWebsites } from './choices.tsx';
import { Notices } from './Notices.tsx';
import { useAction } from './useAction.ts';

const SOURCES: Record<string, string> = {
  redemption: 'by redeeming an invitation',
  registration: 'by registering there',
  admin: 'given by an administrator',
};

/**
 * A contact's portal access: the websites where its credentials work (SPEC 5: websites are kept
 * apart), with how each was given; an administrator gives or removes it (audited; removing it signs
 * the contact out of that website).
 */
export function PortalAccess({ contact }: { contact: Json }) {
  const websites = useWebsites();
  const [access, setAccess] = useState<Json[]>([]);
  const load = useCallback(async () => {
    setAccess((await api('GET', `/contacts/${contact.id}/websites`)).items);
  }, [contact.id]);
  const { message, error, run } = useAction(load);
  useEffect(() => {
    void load();
  }, [load]);
  const name = `${contact.firstName} ${contact.lastName}`.trim();

  return (
    <section className="panel" aria-labelledby="access-title">
      <h2 id="access-title">Portal access of {name}</h2>
      <p>Credentials work only on the websites listed as “Can sign in”.</p>
      <Notices message={message} error={error} />
      <ul className="plain">
        {websites.map((w) => {
          const given = access.find((a) => a.websiteId === w.id);
          return (
            <li key={w.id} className="row">
              <span>
                <strong>{w.name}</strong>:{' '}
                {given ? `Can sign in (${SOURCES[given.source] ?? given.source})` : 'No access'}
              </span>
              {given ? (
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    run(
                      () => api('DELETE', `/contacts/${contact.id}/websites/${w.id}`),
                      `${name} can no longer sign in to ${w.name}.`,
                      `Remove ${name}'s access to ${w.name}? They are signed out there.`,
                    )
                  }
                >
                  Remove access to {w.name}
                </button>
              ) : (
                <button
                  type="button"
                  onClick={() =>
                    run(
                      () => api('POST', `/contacts/${contact.id}/websites`, { websiteId: w.id }),
                      `${name} can now sign in to ${w.name}.`,
                    )
                  }
                >
                  Give access to {w.name}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
