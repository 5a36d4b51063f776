import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { useWebsites, WebsiteOptions } from './choices.tsx';
import { Notices } from './Notices.tsx';
import { WhenRedeemed, whenRedeemedOf } from './WhenRedeemed.tsx';

/**
 * "Create Invitation" for one contact or a selection: one Single invitation each (one call, per-item
 * results) or one Group invitation for them all; "When Redeemed": the account, web roles and
 * workflow the invitation gives; optionally sent at once.
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

  useEffect(() => {
    setWebsiteId((chosen) => chosen || (websites[0]?.id ?? ''));
  }, [websites]);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    if (!websiteId) return setError('Choose a website.');
    const common = { websiteId, ...whenRedeemedOf(form) };
    const send = form.get('send') === 'on';
    const max = Number(form.get('maxRedemptions'));
    if (
      type === 'group' &&
      (!form.get('maxRedemptions') || !Number.isInteger(max) || max < 1 || max > 1_000_000)
    )
      return setError('Maximum Redemptions: a whole number from 1 to 1,000,000.');
    setBusy(true);
    try {
      if (type === 'group') {
        await api('POST', '/invitations', {
          ...common,
          type: 'group',
          invitedContactIds: contacts.map((c) => c.id),
          maxRedemptions: max,
          invitedContactsOnly: form.get('invitedContactsOnly') === 'on',
          send,
        });
        onDone(
          `Created a Group invitation for ${contacts.length} contacts${send ? ' and queued its emails' : ''}.`,
        );
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
          `Created ${r.created} invitations${send ? `, ${r.queued} queued for sending` : ''}${r.rejected ? `, ${r.rejected} refused` : ''}.`,
        );
      }
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not create the invitation.');
    } finally {
      setBusy(false);
    }
  };

  const names = contacts.map((c) => `${c.firstName} ${c.lastName}`).join(', ');
  return (
    <form onSubmit={submit} noValidate aria-labelledby="invite-title" className="panel">
      <h2 id="invite-title">Create Invitation</h2>
      <p>
        {matching !== undefined
          ? `For every contact${matching ? ` matching “${matching}”` : ''}: one Single invitation each, created on the server with its progress shown.`
          : `For ${contacts.length === 1 ? names : `${contacts.length} contacts: ${names}`}`}
      </p>
      <Notices error={error} />
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
      <label className="inline">
        <input type="checkbox" name="send" /> Send the invitation email now
      </label>
      <div className="row">
        <button type="submit" disabled={busy}>
          Create Invitation
        </button>
        {busy && (
          <span role="status">
            <progress aria-label={`Creating ${contacts.length} invitations`} /> Creating {contacts.length}{' '}
            invitations…
          </span>
        )}
      </div>
    </form>
  );
}
