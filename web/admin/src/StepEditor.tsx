import { useEffect, useState } from 'react';
import { api, type Json } from './api.ts';

export type Step = Json & { type: string };

export const STEP_LABELS: Record<string, string> = {
  'send-email': 'Send an email',
  'set-contact-fields': 'Set contact fields',
  'add-web-roles': 'Add web roles',
  'remove-web-roles': 'Remove web roles',
  'set-parent-account': 'Set the parent account',
  'call-webhook': 'Call a webhook',
  wait: 'Wait',
};

const EMPTY: Record<string, Step> = {
  'send-email': { type: 'send-email', templateId: '' },
  'set-contact-fields': { type: 'set-contact-fields', fields: {} },
  'add-web-roles': { type: 'add-web-roles', webRoleIds: [] },
  'remove-web-roles': { type: 'remove-web-roles', webRoleIds: [] },
  'set-parent-account': { type: 'set-parent-account', accountId: '' },
  'call-webhook': { type: 'call-webhook', url: 'https://' },
  wait: { type: 'wait', duration: 'P3D' },
};

const FIELDS = [
  ['firstName', 'First name'],
  ['lastName', 'Last name'],
  ['email2', 'Email 2'],
  ['email3', 'Email 3'],
] as const;

/** The fields of one step, by its type; `set` replaces the step. */
function StepFields({
  step,
  index,
  set,
  websiteId,
}: {
  step: Step;
  index: number;
  set: (s: Step) => void;
  websiteId: string;
}) {
  const [templates, setTemplates] = useState<Json[]>([]);
  const [roles, setRoles] = useState<Json[]>([]);
  const [accounts, setAccounts] = useState<Json[]>([]);
  const id = (name: string) => `step-${index}-${name}`;
  useEffect(() => {
    if (step.type === 'send-email')
      void api('GET', '/email-templates?limit=500').then((t) => setTemplates(t.items));
    if (step.type === 'set-parent-account')
      void api('GET', '/accounts?limit=500').then((a) => setAccounts(a.items));
    if ((step.type === 'add-web-roles' || step.type === 'remove-web-roles') && websiteId)
      void api('GET', `/websites/${websiteId}/web-roles?limit=500`).then((r) => setRoles(r.items));
  }, [step.type, websiteId]);

  switch (step.type) {
    case 'send-email':
      return (
        <>
          <label htmlFor={id('template')}>Email template</label>
          <select
            id={id('template')}
            value={step.templateId}
            onChange={(e) => set({ ...step, templateId: e.target.value })}
          >
            <option value="">Choose a template</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </>
      );
    case 'set-contact-fields':
      return (
        <>
          {FIELDS.map(([name, label]) => (
            <div key={name}>
              <label htmlFor={id(name)}>{label} (empty: unchanged)</label>
              <input
                id={id(name)}
                value={step.fields[name] ?? ''}
                disabled={step.fields[name] === null}
                onChange={(e) => {
                  const fields = { ...step.fields, [name]: e.target.value };
                  if (!e.target.value) delete fields[name];
                  set({ ...step, fields });
                }}
              />
              {(name === 'email2' || name === 'email3') && (
                <label className="inline">
                  <input
                    type="checkbox"
                    checked={step.fields[name] === null}
                    onChange={(e) => {
                      const fields = { ...step.fields, [name]: null };
                      if (!e.target.checked) delete fields[name];
                      set({ ...step, fields });
                    }}
                  />{' '}
                  Clear {label}
                </label>
              )}
            </div>
          ))}
        </>
      );
    case 'add-web-roles':
    case 'remove-web-roles':
      return websiteId ? (
        <fieldset>
          <legend>Web roles of the workflow's website</legend>
          {roles.map((r) => (
            <label key={r.id} className="check">
              <input
                type="checkbox"
                checked={step.webRoleIds.includes(r.id)}
                onChange={(e) =>
                  set({
                    ...step,
                    webRoleIds: e.target.checked
                      ? [...step.webRoleIds, r.id]
                      : step.webRoleIds.filter((x: string) => x !== r.id),
                  })
                }
              />{' '}
              {r.name}
            </label>
          ))}
        </fieldset>
      ) : (
        <p className="hint">Limit the workflow to a website to choose its web roles.</p>
      );
    case 'set-parent-account':
      return (
        <>
          <label htmlFor={id('account')}>Account</label>
          <select
            id={id('account')}
            value={step.accountId}
            onChange={(e) => set({ ...step, accountId: e.target.value })}
          >
            <option value="">Choose an account</option>
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </>
      );
    case 'call-webhook':
      return (
        <>
          <label htmlFor={id('url')}>URL (https; the request is signed with the workflow's secret)</label>
          <input id={id('url')} value={step.url} onChange={(e) => set({ ...step, url: e.target.value })} />
        </>
      );
    case 'wait':
      return (
        <>
          <label htmlFor={id('duration')}>Duration (ISO 8601: P3D is three days, PT12H twelve hours)</label>
          <input
            id={id('duration')}
            value={step.duration}
            onChange={(e) => set({ ...step, duration: e.target.value })}
          />
        </>
      );
    default:
      return null;
  }
}

/**
 * The steps of a workflow: add, remove and order them, each with the fields of its type, and the
 * server's message for a step shown under it (`errors`: path → message, e.g. `/steps/2/url`).
 */
export function StepEditor({
  steps,
  onChange,
  websiteId,
  errors,
}: {
  steps: Step[];
  /** `restructured`: steps were added, removed or moved (not only edited in place). */
  onChange: (steps: Step[], restructured: boolean) => void;
  websiteId: string;
  errors: Record<string, string>;
}) {
  const [adding, setAdding] = useState('send-email');
  const move = (i: number, by: number) => {
    const next = [...steps];
    const [s] = next.splice(i, 1);
    next.splice(i + by, 0, s as Step);
    onChange(next, true);
  };
  return (
    <fieldset className="steps">
      <legend>Steps</legend>
      {steps.length === 0 && <p>No steps yet.</p>}
      <ol>
        {steps.map((s, i) => {
          const messages = Object.entries(errors).filter(
            ([p]) => p === `/steps/${i}` || p.startsWith(`/steps/${i}/`),
          );
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: steps have no id; their place is what they are
            <li key={`${i}-${s.type}`} className={messages.length > 0 ? 'step invalid' : 'step'}>
              <h3>
                Step {i + 1}: {STEP_LABELS[s.type] ?? s.type}
              </h3>
              <StepFields
                step={s}
                index={i}
                websiteId={websiteId}
                set={(n) =>
                  onChange(
                    steps.map((x, k) => (k === i ? n : x)),
                    false,
                  )
                }
              />
              {messages.map(([p, m]) => (
                <p key={p} className="error" role="alert">
                  {m}
                </p>
              ))}
              <div className="row">
                <button
                  type="button"
                  disabled={i === 0}
                  onClick={() => move(i, -1)}
                  aria-label={`Move step ${i + 1} up`}
                >
                  Up
                </button>
                <button
                  type="button"
                  disabled={i === steps.length - 1}
                  onClick={() => move(i, 1)}
                  aria-label={`Move step ${i + 1} down`}
                >
                  Down
                </button>
                <button
                  type="button"
                  onClick={() =>
                    onChange(
                      steps.filter((_, k) => k !== i),
                      true,
                    )
                  }
                  aria-label={`Remove step ${i + 1}`}
                >
                  Remove
                </button>
              </div>
            </li>
          );
        })}
      </ol>
      <div className="row">
        <label htmlFor="add-step">New step</label>
        <select id="add-step" value={adding} onChange={(e) => setAdding(e.target.value)}>
          {Object.entries(STEP_LABELS).map(([type, label]) => (
            <option key={type} value={type}>
              {label}
            </option>
          ))}
        </select>
        <button
          type="button"
          onClick={() => onChange([...steps, structuredClone(EMPTY[adding] as Step)], true)}
        >
          Add step
        </button>
      </div>
    </fieldset>
  );
}
