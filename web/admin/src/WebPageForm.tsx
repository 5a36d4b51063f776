import type { FormEvent } from 'react';
import type { Json } from './api.ts';
import { RoleCheckboxes } from './choices.tsx';

const PATH = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?(?:\/[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)*$/;

/** Create or edit a portal web page: its path, title, Liquid content and who may read it. */
export function WebPageForm({
  page,
  roles,
  onSave,
  onInvalid,
  onCancel,
}: {
  page?: Json;
  roles: Json[];
  onSave: (body: Json, form: HTMLFormElement) => void;
  onInvalid: (message: string) => void;
  onCancel?: () => void;
}) {
  const p = page ? 'page-edit-' : 'page-new-';
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const path = String(form.get('path') ?? '').trim();
    const title = String(form.get('title') ?? '').trim();
    if (!PATH.test(path))
      return onInvalid(
        'The page path takes lower-case letters, digits, dots, dashes and slashes, e.g. partners/prices.',
      );
    if (!title) return onInvalid('Enter a title for the page.');
    onSave(
      {
        path,
        title,
        content: String(form.get('content') ?? ''),
        public: form.get('public') === 'on',
        webRoleIds: form.getAll('webRoleIds').map(String),
      },
      e.currentTarget,
    );
  };
  return (
    <form
      onSubmit={submit}
      noValidate
      className={page ? 'panel' : undefined}
      aria-label={page ? `Edit the page ${page.title}` : 'New web page'}
    >
      <label htmlFor={`${p}path`}>Path (served at /p/…)</label>
      <input id={`${p}path`} name="path" defaultValue={page?.path} />
      <label htmlFor={`${p}title`}>Title</label>
      <input id={`${p}title`} name="title" defaultValue={page?.title} />
      <label htmlFor={`${p}content`}>Content (Liquid; contact and website variables)</label>
      <textarea id={`${p}content`} name="content" rows={6} defaultValue={page?.content} />
      <label className="inline">
        <input type="checkbox" name="public" defaultChecked={page?.public ?? false} /> Public: anyone may read
        it, signed in or not
      </label>
      <fieldset>
        <legend>Only these web roles may read it (none: any signed-in contact)</legend>
        <RoleCheckboxes roles={roles} checked={page?.webRoleIds} />
      </fieldset>
      <div className="row">
        <button type="submit">{page ? 'Save page' : 'Create page'}</button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
