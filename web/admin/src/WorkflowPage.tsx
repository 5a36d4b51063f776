import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { Notices } from './Notices.tsx';
import { RunsTable } from './RunsTable.tsx';
import { type Step, StepEditor } from './StepEditor.tsx';
import { useAction } from './useAction.ts';

const TRIGGER_EVENTS = [
  ['invitation.redeemed', 'An invitation is redeemed'],
  ['contact.registered', 'A contact registers'],
  ['invitation.sent', 'An invitation email is sent'],
] as const;

/**
 * One workflow (`id`), or a new one (`id` null): its name, the website it is limited to, the events
 * that start it and its steps, saved as a new version; its versions and its runs.
 */
export function WorkflowPage({ id }: { id: string | null }) {
  const [workflow, setWorkflow] = useState<Json | null>(null);
  const [versions, setVersions] = useState<Json[]>([]);
  const [websites, setWebsites] = useState<Json[]>([]);
  const [steps, setSteps] = useState<Step[]>([]);
  const [websiteId, setWebsiteId] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  const load = useCallback(async () => {
    setWebsites((await api('GET', '/websites?limit=500')).items);
    if (!id) return;
    const [w, v] = await Promise.all([
      api('GET', `/workflows/${id}`),
      api('GET', `/workflows/${id}/versions`),
    ]);
    setWorkflow(w);
    setVersions(v.items);
    setSteps(w.steps);
    setWebsiteId(w.websiteId ?? '');
  }, [id]);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    load().catch((err) => setError(err instanceof ApiError ? err.message : 'Could not load the workflow.'));
  }, [load, setError]);

  const save = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const body = {
      name: String(form.get('name') ?? '').trim(),
      websiteId: websiteId || null,
      eventTypes: form.getAll('eventTypes').map(String),
      steps,
    };
    if (!body.name) return setError('Give the workflow a name.');
    setFieldErrors({});
    await run(
      async () => {
        try {
          const saved = id
            ? await api('PATCH', `/workflows/${id}`, body)
            : await api('POST', '/workflows', body);
          if (!id) location.hash = `#/workflows/${saved.id}`;
        } catch (err) {
          if (err instanceof ApiError) setFieldErrors(err.fields);
          throw err;
        }
      },
      id ? 'Saved as a new version.' : 'Workflow created.',
    );
  };

  if (id && !workflow) return <Notices message={message} error={error} />;
  if (workflow?.key) {
    location.hash = '#/workflows';
    return null;
  }
  return (
    <section>
      <p>
        <a href="#/workflows">Workflows</a>
      </p>
      <h1>{workflow ? workflow.name : 'New workflow'}</h1>
      {workflow && (
        <>
          <div className="commands" role="toolbar" aria-label="Workflow actions">
            <button
              type="button"
              onClick={() =>
                run(
                  () =>
                    api('POST', `/workflows/${workflow.id}/${workflow.active ? 'deactivate' : 'activate'}`),
                  workflow.active ? 'Deactivated: it starts no new runs.' : 'Activated.',
                )
              }
            >
              {workflow.active ? 'Deactivate' : 'Activate'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() =>
                run(
                  async () => {
                    await api('DELETE', `/workflows/${workflow.id}`);
                    location.hash = '#/workflows';
                  },
                  'Workflow deleted.',
                  `Delete the workflow ${workflow.name}? Only a workflow that never ran and that no invitation names can be deleted; deactivate it otherwise.`,
                )
              }
            >
              Delete
            </button>
          </div>
          <p>
            Version {workflow.version}, {workflow.active ? 'active' : 'deactivated'}.
          </p>
        </>
      )}
      <Notices message={message} error={error} />
      <form key={workflow?.version ?? 'new'} onSubmit={save} noValidate>
        <label htmlFor="wf-name">Name</label>
        <input id="wf-name" name="name" defaultValue={workflow?.name ?? ''} />
        <label htmlFor="wf-website">Limited to the website</label>
        <select id="wf-website" value={websiteId} onChange={(e) => setWebsiteId(e.target.value)}>
          <option value="">Any website</option>
          {websites.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
        {fieldErrors['/websiteId'] && (
          <p className="error" role="alert">
            {fieldErrors['/websiteId']}
          </p>
        )}
        <fieldset>
          <legend>Also start it when (on the event's contact)</legend>
          {TRIGGER_EVENTS.map(([type, label]) => (
            <label key={type} className="check">
              <input
                type="checkbox"
                name="eventTypes"
                value={type}
                defaultChecked={workflow?.eventTypes?.includes(type)}
              />{' '}
              {label}
            </label>
          ))}
        </fieldset>
        <StepEditor
          steps={steps}
          onChange={(next, restructured) => {
            setSteps(next);
            // The server's messages name steps by place: once steps move, they no longer fit.
            if (restructured)
              setFieldErrors((errors) =>
                Object.fromEntries(Object.entries(errors).filter(([path]) => !path.startsWith('/steps'))),
              );
          }}
          websiteId={websiteId}
          errors={fieldErrors}
        />
        <button type="submit">{id ? 'Save as a new version' : 'Create workflow'}</button>
      </form>
      {workflow && (
        <>
          <h2>Versions</h2>
          <ol className="versions">
            {versions.map((v) => (
              <li key={v.version}>
                Version {v.version}: {v.steps.length} step(s), saved {new Date(v.createdAt).toLocaleString()}
              </li>
            ))}
          </ol>
          <RunsTable query={`workflowId=${workflow.id}`} />
        </>
      )}
    </section>
  );
}
