import type { FormEvent } from 'react';
import type { Json } from './api.ts';
import { WhenRedeemed, whenRedeemedOf } from './WhenRedeemed.tsx';

/** An instant as the value of a datetime-local input (local time, to the minute), and back. */
const toLocalInput = (iso: string | null) => {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

/**
 * Edit an invitation: its name, expiry, places (Group only) and "When Redeemed". Checked here
 * first; the API has the last word (e.g. a website that requires an expiry).
 */
export function EditInvitation({
  invitation,
  onSave,
  onInvalid,
}: {
  invitation: Json;
  onSave: (changes: Json) => void;
  onInvalid: (message: string) => void;
}) {
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const name = String(form.get('name') ?? '').trim();
    if (!name) return onInvalid('Enter a name for the invitation.');
    const expires = String(form.get('expiresAt') ?? '');
    const expiresAt = expires ? new Date(expires) : null;
    if (expiresAt && Number.isNaN(expiresAt.getTime()))
      return onInvalid('Enter the expiry as a date and time.');
    const changes: Json = { name, expiresAt: expiresAt?.toISOString() ?? null, ...whenRedeemedOf(form) };
    if (invitation.type === 'group') {
      const max = Number(form.get('maxRedemptions'));
      if (!Number.isInteger(max) || max < Math.max(1, invitation.redemptionCount))
        return onInvalid(
          `Allow at least ${Math.max(1, invitation.redemptionCount)} redemptions (a whole number).`,
        );
      changes.maxRedemptions = max;
      changes.invitedContactsOnly = form.get('invitedContactsOnly') === 'on';
    }
    onSave(changes);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="edit-title" className="panel">
      <h2 id="edit-title">Edit invitation</h2>
      <label htmlFor="name">Name</label>
      <input id="name" name="name" defaultValue={invitation.name} />
      <label htmlFor="expiresAt">Expires (leave empty for never, where the website allows it)</label>
      <input
        id="expiresAt"
        name="expiresAt"
        type="datetime-local"
        defaultValue={toLocalInput(invitation.expiresAt)}
      />
      {invitation.type === 'group' && (
        <>
          <label htmlFor="maxRedemptions">Maximum Redemptions</label>
          <input
            id="maxRedemptions"
            name="maxRedemptions"
            type="number"
            min={1}
            defaultValue={invitation.maxRedemptions}
          />
          <label className="inline">
            <input
              type="checkbox"
              name="invitedContactsOnly"
              defaultChecked={invitation.invitedContactsOnly}
            />{' '}
            Only the invited contacts may redeem it
          </label>
        </>
      )}
      <WhenRedeemed
        websiteId={invitation.websiteId}
        initial={{
          webRoleIds: invitation.webRoleIds,
          assignToAccountId: invitation.assignToAccountId,
          redemptionWorkflowId: invitation.redemptionWorkflowId,
        }}
      />
      <div className="row">
        <button type="submit">Save changes</button>
      </div>
    </form>
  );
}
