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
  onDone,
}: {
  contacts: Json[];
  onDone: (summary: string) => void;
}) {
  const websites = useWebsites();
  const [websiteId, setWebsiteId] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setWebsiteId((chosen) => chosen || (websites[0]?.id ?? ''));
  }, [websites]);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    if (!websiteId) return setError('Choose a website.');
    const common = { websiteId, ...whenRedeemedOf(form) };
    const send = form.get('send') === 'on';
    setBusy(true);
    try {
      if (form.get('type') === 'group') {
        await api('POST', '/invitations', {
          ...common,
          type: 'group',
          invitedContactIds: contacts.map((c) => c.id),
          maxRedemptions: contacts.length,
          send,
        });
        onDone(
          `Created a Group invitation for ${contacts.length} contacts${send ? ' and queued its emails' : ''}.`,
        );
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
      <p>For {contacts.length === 1 ? names : `${contacts.length} contacts: ${names}`}</p>
      <Notices error={error} />
      <label htmlFor="website">Website</label>
      <select id="website" value={websiteId} onChange={(e) => setWebsiteId(e.target.value)}>
        <WebsiteOptions websites={websites} />
      </select>
      {contacts.length > 1 && (
        <fieldset>
          <legend>Type</legend>
          <label className="inline">
            <input type="radio" name="type" value="single" defaultChecked /> One Single invitation each
          </label>
          <label className="inline">
            <input type="radio" name="type" value="group" /> One Group invitation for all
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
