import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { Notices } from './Notices.tsx';
import { useAction } from './useAction.ts';

/**
 * Workflows: activate and deactivate; the Send Invitation workflow's email template, edited only
 * while the workflow is deactivated (the API answers 409 otherwise, and that message is shown), with
 * a preview rendered against the newest invitation.
 */
export function Workflows() {
  const [workflows, setWorkflows] = useState<Json[]>([]);
  const [template, setTemplate] = useState<Json | null>(null);
  const [preview, setPreview] = useState<Json | null>(null);

  const load = useCallback(async () => {
    const w = (await api('GET', '/workflows')).items as Json[];
    setWorkflows(w);
    const send = w.find((x) => x.key === 'send-invitation');
    if (send?.templateId) setTemplate(await api('GET', `/email-templates/${send.templateId}`));
  }, []);
  const { message, error, setError, run } = useAction(load);
  useEffect(() => {
    void load();
  }, [load]);

  const save = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const body = {
      name: String(form.get('name') ?? ''),
      subject: String(form.get('subject') ?? ''),
      html: String(form.get('html') ?? ''),
      text: String(form.get('text') ?? ''),
    };
    if (!body.subject.trim() || !body.html.trim() || !body.text.trim())
      return setError('The subject, the HTML and the text must not be empty.');
    void run(() => api('PUT', `/email-templates/${template?.id}`, body), 'Template saved.');
  };

  const showPreview = () =>
    run(async () => {
      const newest = (await api('GET', '/invitations?limit=1')).items[0];
      if (!newest)
        throw new ApiError(404, 'NOT_FOUND', 'Create an invitation first: the preview renders one.');
      setPreview(await api('POST', `/email-templates/${template?.id}/preview`, { invitationId: newest.id }));
    }, 'Preview of the newest invitation (its code masked).');

  return (
    <section>
      <h1>Workflows</h1>
      <Notices message={message} error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Workflow</th>
            <th scope="col">State</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {workflows.map((w) => (
            <tr key={w.id}>
              <td>{w.name}</td>
              <td>{w.active ? 'Active' : 'Deactivated'}</td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    run(
                      () => api('POST', `/workflows/${w.id}/${w.active ? 'deactivate' : 'activate'}`),
                      `${w.name} ${w.active ? 'deactivated' : 'activated'}.`,
                    )
                  }
                >
                  {w.active ? `Deactivate ${w.name}` : `Activate ${w.name}`}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {template && (
        <>
          <h2>Invitation email template</h2>
          <form key={template.updatedAt} onSubmit={save} noValidate>
            <label htmlFor="tname">Name</label>
            <input id="tname" name="name" defaultValue={template.name} />
            <label htmlFor="subject">Subject</label>
            <input id="subject" name="subject" defaultValue={template.subject} />
            <label htmlFor="html">HTML (Liquid)</label>
            <textarea id="html" name="html" rows={10} defaultValue={template.html} />
            <label htmlFor="text">Text (Liquid)</label>
            <textarea id="text" name="text" rows={6} defaultValue={template.text} />
            <div className="row">
              <button type="submit">Save template</button>
              <button type="button" onClick={showPreview}>
                Preview
              </button>
            </div>
          </form>
          {preview && (
            <>
              <h2>Preview: {preview.subject}</h2>
              <iframe title="Email preview" sandbox="" srcDoc={preview.html} className="preview" />
            </>
          )}
        </>
      )}
    </section>
  );
}
