import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { searchContacts, searchUsers } from './AccountSelect.tsx';
import { ApiError, api, isAdministrator, type Json } from './api.ts';
import { useWebsites, WebsiteOptions } from './choices.tsx';
import { Notices } from './Notices.tsx';
import { SearchPicker } from './SearchPicker.tsx';
import { WhenRedeemed, whenRedeemedOf } from './WhenRedeemed.tsx';

/** What the server says of the chosen contacts and website before anything is created. */
interface OpenCheck {
  total: number;
  alreadyInvited: number;
  examples: Json[];
}

/**
 * "Create Invitation" (seed 003) for one contact or a selection: one Single invitation each, or one
 * Group invitation for them all, with every attribute: name, type, owner, inviter, expiry, maximum
 * redemptions, "When Redeemed" (account, web roles, workflow) and "send now". Before saving, it
 * warns of contacts who already hold an open invitation to the website and offers to skip them.
 * One invitation created opens its page; several are summed up with a link to the list.
 */
export function InvitationForm({
  contacts,
  matching,
  onDone,
}: {
  contacts: Json[];
  /** Instead of `contacts`: every contact matching this search ('' for all), as a bulk operation. */
  matching?: string;
  onDone: (summary: string, operation?: Json) => void;
}) {
  const websites = useWebsites();
  const [websiteId, setWebsiteId] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [type, setType] = useState<'single' | 'group'>('single');
  const [ownerId, setOwnerId] = useState('');
  const [inviterId, setInviterId] = useState('');
  const [check, setCheck] = useState<OpenCheck | null>(null);
  const [skipInvited, setSkipInvited] = useState(true);
  const admin = isAdministrator();
  const website = websites.find((w) => w.id === websiteId);
  const one = matching === undefined && contacts.length === 1;
  const contactKey = contacts.map((c) => c.id).join(',');

  useEffect(() => {
    setWebsiteId((chosen) => chosen || (websites[0]?.id ?? ''));
  }, [websites]);
  useEffect(() => {
    setCheck(null);
    if (!websiteId) return;
    let live = true;
    const source =
      matching !== undefined ? { matching: { search: matching } } : { contactIds: contactKey.split(',') };
    void api('POST', '/invitations/bulk/check', { websiteId, ...source })
      .then((c) => {
        if (live) setCheck(c as OpenCheck);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [websiteId, matching, contactKey]);
  const users = useCallback(searchUsers, []);
  const people = useCallback(searchContacts, []);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    if (!websiteId) return setError('Choose a website.');
    const expires = String(form.get('expiresAt') ?? '');
    const never = form.get('neverExpires') === 'on';
    const expiry = expires ? new Date(expires) : null;
    if (expiry && Number.isNaN(expiry.getTime())) return setError('Expiry Date: enter a date and time.');
    if (expiry && expiry.getTime() <= Date.now())
      return setError('Expiry Date: choose a time in the future.');
    const name = String(form.get('name') ?? '').trim();
    const common = {
      websiteId,
      ...whenRedeemedOf(form),
      ...(ownerId ? { ownerId } : {}),
      ...(inviterId ? { inviterContactId: inviterId } : {}),
      ...(never ? { expiresAt: null } : expiry ? { expiresAt: expiry.toISOString() } : {}),
      // The default is to skip, whether or not the check has answered yet.
      skipInvited,
    };
    const send = form.get('send') === 'on';
    const max = Number(form.get('maxRedemptions'));
    if (
      type === 'group' &&
      (!form.get('maxRedemptions') || !Number.isInteger(max) || max < 1 || max > 1_000_000)
    )
      return setError('Maximum Redemptions: a whole number from 1 to 1,000,000.');
    setBusy(true);
    try {
      if (type === 'group' || one) {
        const created = await api('POST', '/invitations', {
          ...common,
          type,
          ...(name ? { name } : {}),
          invitedContactIds: contacts.map((c) => c.id),
          ...(type === 'group'
            ? { maxRedemptions: max, invitedContactsOnly: form.get('invitedContactsOnly') === 'on' }
            : {}),
          send,
        });
        onDone(`Created “${created.name}”${send ? ' and queued its email' : ''}.`);
        location.hash = `#/invitations/${created.id}`;
      } else if (matching !== undefined) {
        const op = await api('POST', '/invitations/bulk', {
          ...common,
          matching: { search: matching },
          send,
        });
        onDone(`Inviting ${op.total} contacts.`, op);
      } else {
        const r = await api('POST', '/invitations/bulk', {
          ...common,
          contactIds: contacts.map((c) => c.id),
          send,
        });
        onDone(
          `Created ${r.created} invitations${send ? `, ${r.queued} queued for sending` : ''}${r.skipped ? `, ${r.skipped} skipped (already invited)` : ''}${r.rejected ? `, ${r.rejected} refused` : ''}.`,
        );
      }
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not create the invitation.');
    } finally {
      setBusy(false);
    }
  };

  const names = contacts.map((c) => `${c.firstName} ${c.lastName}`).join(', ');
  const lifetime = website?.settings?.defaultInvitationLifetimeDays;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="invite-title" className="panel">
      <h2 id="invite-title">Create Invitation</h2>
      <p>
        {matching !== undefined
          ? `For every contact${matching ? ` matching “${matching}”` : ''}: one Single invitation each, created on the server with its progress shown.`
          : `For ${contacts.length === 1 ? names : `${contacts.length} contacts: ${names}`}`}
      </p>
      <Notices error={error} />
      <fieldset>
        <legend>General</legend>
        {(one || type === 'group') && (
          <>
            <label htmlFor="invitation-name">Name</label>
            <input
              id="invitation-name"
              name="name"
              maxLength={200}
              aria-describedby="h-name"
              placeholder={one ? names : 'Group invitation'}
            />
            <p id="h-name" className="help">
              Leave empty for the default shown.
            </p>
          </>
        )}
        <label htmlFor="website">Website</label>
        <select id="website" value={websiteId} onChange={(e) => setWebsiteId(e.target.value)}>
          <WebsiteOptions websites={websites} />
        </select>
        {contacts.length > 1 && (
          <fieldset>
            <legend>Type</legend>
            <label className="inline">
              <input
                type="radio"
                name="type"
                value="single"
                checked={type === 'single'}
                onChange={() => setType('single')}
              />{' '}
              One Single invitation each
            </label>
            <label className="inline">
              <input
                type="radio"
                name="type"
                value="group"
                checked={type === 'group'}
                onChange={() => setType('group')}
              />{' '}
              One Group invitation for all
            </label>
          </fieldset>
        )}
        {admin ? (
          <SearchPicker
            id="owner"
            label="Owner (the sender of the email)"
            value={ownerId}
            onChange={setOwnerId}
            search={users}
            none="Me"
          />
        ) : (
          <p className="label">Owner (the sender of the email): you</p>
        )}
        <SearchPicker
          id="inviter"
          label="Inviter (the contact who invites, if any)"
          value={inviterId}
          onChange={setInviterId}
          search={people}
          none="No inviter"
        />
        <label htmlFor="expiresAt">Expiry Date</label>
        <input id="expiresAt" name="expiresAt" type="datetime-local" aria-describedby="h-expiry" />
        <p id="h-expiry" className="help">
          Empty: {lifetime ? `${lifetime} days from now, the website's default` : "the website's default"}.
          Your local time ({Intl.DateTimeFormat().resolvedOptions().timeZone}).
        </p>
        {website?.settings?.allowNonExpiringInvitations && (
          <label className="inline">
            <input type="checkbox" name="neverExpires" /> Never expires
          </label>
        )}
      </fieldset>
      {type === 'group' && (
        <fieldset>
          <legend>Group invitation</legend>
          <label htmlFor="maxRedemptions">Maximum Redemptions</label>
          <input
            id="maxRedemptions"
            name="maxRedemptions"
            type="number"
            min={1}
            max={1_000_000}
            required
            aria-describedby="h-max"
          />
          <p id="h-max" className="help">
            How many people may redeem the one code, invited or not (unless limited below).
          </p>
          <label className="inline">
            <input type="checkbox" name="invitedContactsOnly" /> Only the invited contacts may redeem it
          </label>
        </fieldset>
      )}
      <WhenRedeemed websiteId={websiteId} />
      {check && check.alreadyInvited > 0 && (
        <div className="notice warning" role="status">
          <p>
            {check.alreadyInvited === check.total && check.total === 1
              ? 'This contact already holds'
              : `${check.alreadyInvited} of these ${check.total} contacts already hold`}{' '}
            an open invitation to {website?.name ?? 'this website'}:
          </p>
          <ul>
            {check.examples.map((o) => (
              <li key={o.contactId}>
                {o.firstName} {o.lastName}: <a href={`#/invitations/${o.invitationId}`}>{o.name}</a>
              </li>
            ))}
            {check.alreadyInvited > check.examples.length && (
              <li>and {check.alreadyInvited - check.examples.length} more</li>
            )}
          </ul>
          <label className="inline">
            <input type="checkbox" checked={skipInvited} onChange={(e) => setSkipInvited(e.target.checked)} />{' '}
            Skip them (do not invite them again)
          </label>
        </div>
      )}
      <label className="inline">
        <input type="checkbox" name="send" /> Send the invitation email now
      </label>
      <div className="row">
        <button type="submit" disabled={busy}>
          Create Invitation
        </button>
        {busy && (
          <span role="status">
            <progress aria-label="Creating the invitations" /> Creating…
          </span>
        )}
      </div>
    </form>
  );
}
