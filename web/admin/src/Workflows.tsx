import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, isAdministrator, type Json } from './api.ts';
import { MessageFrame } from './MessageFrame.tsx';
import { Notices } from './Notices.tsx';
import { Scroll } from './Scroll.tsx';
import { type Choice, SearchPicker } from './SearchPicker.tsx';
import { useAction } from './useAction.ts';

/** The invitations matching `q` (name, or an invited contact's name or email), as choices. */
const searchInvitations = async (q: string): Promise<Choice[]> =>
  (
    await api('GET', `/invitations?${new URLSearchParams({ limit: '20', ...(q ? { search: q } : {}) })}`)
  ).items.map((i: Json) => ({ id: i.id, label: `${i.name} (${i.status})` }));

/**
 * Workflows: the list (each opens its page, `#/workflows/{id}`, but the built-in one), a new one,
 * activate and deactivate; the Send Invitation workflow's From and email template, editable only
 * while the workflow is deactivated (read-only with a hint otherwise; the API refuses too), with a
 * live preview of the draft as you type, against an invitation you pick or sample data, shown as a
 * mail client would, and the variables it uses that an invitation email does not have.
 */
export function Workflows() {
  const [workflows, setWorkflows] = useState<Json[]>([]);
  const [template, setTemplate] = useState<Json | null>(null);
  const [preview, setPreview] = useState<Json | null>(null);
  const [previewError, setPreviewError] = useState('');
  const [previewOf, setPreviewOf] = useState('');
  const form = useRef<HTMLFormElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

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

  const sendWorkflow = workflows.find((w) => w.key === 'send-invitation');
  const editable = isAdministrator() && sendWorkflow?.active === false;
  const invitations = useCallback(searchInvitations, []);
  const saveFrom = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const from = String(new FormData(e.currentTarget).get('from') ?? '').trim();
    if (from && !/@/.test(from)) return setError('From: an address like Partner Team <team@example.com>.');
    void run(
      () => api('PATCH', `/workflows/${sendWorkflow?.id}`, { fromAddress: from || null }),
      'From saved.',
    );
  };

  /** Renders what the editor holds now (unsaved) against the newest invitation. */
  const renderDraft = useCallback(async () => {
    if (!template || !form.current) return;
    const parts = new FormData(form.current);
    const draft = {
      subject: String(parts.get('subject') ?? ''),
      html: String(parts.get('html') ?? ''),
      text: String(parts.get('text') ?? ''),
    };
    if (!draft.subject.trim() || !draft.html.trim() || !draft.text.trim())
      return setPreviewError('The subject, the HTML and the text must not be empty.');
    try {
      setPreview(
        await api('POST', `/email-templates/${template.id}/preview`, {
          ...(previewOf ? { invitationId: previewOf } : {}),
          draft,
        }),
      );
      setPreviewError('');
    } catch (err) {
      setPreviewError(err instanceof ApiError ? err.message : 'Could not render the preview.');
    }
  }, [template, previewOf]);
  useEffect(() => {
    void renderDraft();
  }, [renderDraft]);
  const edited = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void renderDraft(), 400);
  };

  return (
    <section>
      <h1>Workflows</h1>
      <Notices message={message} error={error} />
      <p>
        <a className="button" href="#/workflows/new">
          New workflow
        </a>
      </p>
      <Scroll label="Workflows">
        <table>
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Steps</th>
              <th scope="col">State</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {workflows.map((w) => (
              <tr key={w.id}>
                <td>{w.key ? w.name : <a href={`#/workflows/${w.id}`}>{w.name}</a>}</td>
                <td>{w.key ? 'Sends each invitation' : `${w.steps.length}, version ${w.version}`}</td>
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
      </Scroll>
      {template && (
        <>
          <h2>Send Invitation: From</h2>
          <form key={`from:${sendWorkflow?.updatedAt}`} onSubmit={saveFrom} noValidate className="row">
            <label htmlFor="from">From (empty: MAIL_FROM, with the inviting user's name)</label>
            <input id="from" name="from" defaultValue={sendWorkflow?.fromAddress ?? ''} />
            <button type="submit">Save From</button>
          </form>
          <h2>Invitation email template</h2>
          {!isAdministrator() && <p className="hint">Only administrators edit email templates.</p>}
          {isAdministrator() && sendWorkflow?.active && (
            <p className="hint">
              Read-only while Send Invitation is active (invitations are being sent with it): deactivate it
              above to edit the template, then activate it again.
            </p>
          )}
          <form key={`template:${template.updatedAt}`} ref={form} onSubmit={save} onInput={edited} noValidate>
            <fieldset className="plain" disabled={!editable}>
              <label htmlFor="tname">Name</label>
              <input id="tname" name="name" defaultValue={template.name} />
              <label htmlFor="subject">Subject</label>
              <input id="subject" name="subject" defaultValue={template.subject} />
              <label htmlFor="html">HTML (Liquid)</label>
              <textarea id="html" name="html" rows={10} defaultValue={template.html} />
              <label htmlFor="text">Text (Liquid)</label>
              <textarea id="text" name="text" rows={6} defaultValue={template.text} />
            </fieldset>
            {editable && <button type="submit">Save template</button>}
          </form>
          <section aria-labelledby="preview-title">
            <h2 id="preview-title">Preview: {preview?.subject ?? '…'}</h2>
            <SearchPicker
              id="preview-of"
              label="Preview with"
              value={previewOf}
              onChange={setPreviewOf}
              search={invitations}
              none="Sample data (Alex Sample)"
            />
            <p>
              As it would be sent{preview?.to ? ` to ${preview.to}` : ''} (the code masked); follows what you
              type.
            </p>
            {previewError && (
              <p role="alert" className="error">
                {previewError}
              </p>
            )}
            {preview && preview.unknownVariables.length > 0 && (
              <div className="notice warning" role="status">
                <p>
                  Unknown variables (they render empty):{' '}
                  {preview.unknownVariables.map((v: string, k: number) => (
                    <span key={v}>
                      {k > 0 && ', '}
                      <code>{v}</code>
                    </span>
                  ))}
                </p>
              </div>
            )}
            {preview && <MessageFrame title="Email preview" html={preview.html} />}
          </section>
        </>
      )}
    </section>
  );
}
