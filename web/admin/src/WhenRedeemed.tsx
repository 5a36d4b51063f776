import { useEffect, useState } from 'react';
import { AccountSelect } from './AccountSelect.tsx';
import { api, type Json } from './api.ts';
import { RoleCheckboxes } from './choices.tsx';

/** What redeeming gives, read from a form by `whenRedeemedOf`. */
export interface WhenRedeemedValues {
  webRoleIds: string[];
  assignToAccountId: string | null;
  redemptionWorkflowId: string | null;
}

export const whenRedeemedOf = (form: FormData): WhenRedeemedValues => ({
  webRoleIds: form.getAll('webRoleIds').map(String),
  assignToAccountId: String(form.get('account') ?? '') || null,
  redemptionWorkflowId: String(form.get('workflow') ?? '') || null,
});

/**
 * The "When Redeemed" fieldset of the invitation forms: the account, the website's web roles and the
 * workflow a redemption runs (active ones, limited to no website or to this one), starting from
 * `initial` when editing.
 */
export function WhenRedeemed({ websiteId, initial }: { websiteId: string; initial?: WhenRedeemedValues }) {
  const [roles, setRoles] = useState<Json[]>([]);
  const [workflows, setWorkflows] = useState<Json[]>([]);
  const [account, setAccount] = useState(initial?.assignToAccountId ?? '');
  const [workflow, setWorkflow] = useState(initial?.redemptionWorkflowId ?? '');

  useEffect(() => {
    void api('GET', '/workflows?limit=500').then((w) =>
      setWorkflows(
        w.items.filter(
          (x: Json) =>
            x.key === null &&
            (x.active || x.id === initial?.redemptionWorkflowId) &&
            (!x.websiteId || x.websiteId === websiteId),
        ),
      ),
    );
  }, [websiteId, initial?.redemptionWorkflowId]);
  useEffect(() => {
    if (websiteId)
      void api('GET', `/websites/${websiteId}/web-roles?limit=200`).then((r) => setRoles(r.items));
  }, [websiteId]);

  return (
    <fieldset>
      <legend>When Redeemed</legend>
      <AccountSelect id="account" name="account" label="Account" value={account} onChange={setAccount} />
      <p className="label">Web roles</p>
      <RoleCheckboxes roles={roles} checked={initial?.webRoleIds} />
      <label htmlFor="workflow">Execute Workflow on Redeeming Contact</label>
      <select id="workflow" name="workflow" value={workflow} onChange={(e) => setWorkflow(e.target.value)}>
        <option value="">None</option>
        {workflows.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
    </fieldset>
  );
}
