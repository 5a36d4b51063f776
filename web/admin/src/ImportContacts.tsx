import { type FormEvent, useState } from 'react';
import { ApiError, api, type Json } from './api.ts';
import { Notices } from './Notices.tsx';
import { OperationProgress } from './OperationProgress.tsx';
import { Scroll } from './Scroll.tsx';

const MAX_BYTES = 32 * 1024 * 1024;
const SHOWN = 200;

/**
 * Import contacts from a CSV file (columns firstName, lastName, email, email2, email3,
 * parentAccountId): valid lines are created, lines whose email exists are skipped, and every line
 * that was not created is listed with its reasons. A large file runs as a bulk operation on the
 * server, shown with its progress.
 */
export function ImportContacts({ onImported }: { onImported: () => void }) {
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<Json | null>(null);
  const [operation, setOperation] = useState<Json | null>(null);
  const [error, setError] = useState('');

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const file = new FormData(e.currentTarget).get('file');
    if (!(file instanceof File) || file.size === 0) return setError('Choose a CSV file to import.');
    if (file.size > MAX_BYTES)
      return setError('The file is larger than 32 MB; split it and import the parts.');
    setBusy(true);
    setError('');
    setReport(null);
    setOperation(null);
    try {
      const answer = await api('POST', '/contacts/import', await file.text(), { contentType: 'text/csv' });
      // A large file comes back as a bulk operation that the server goes on with.
      if (answer.kind) setOperation(answer);
      else {
        setReport(answer);
        onImported();
      }
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not import the file.');
    } finally {
      setBusy(false);
    }
  };

  const notCreated = (report?.lines ?? []).filter((l: Json) => l.status !== 'created');
  return (
    <section aria-labelledby="import-title">
      <h2 id="import-title">Import contacts</h2>
      <p>
        A CSV file with a header line: firstName, lastName, email, email2, email3, parentAccountId. Lines
        whose email already exists are skipped.
      </p>
      <form onSubmit={submit} noValidate className="row">
        <label htmlFor="csv">CSV file</label>
        <input id="csv" name="file" type="file" accept=".csv,text/csv" />
        <button type="submit" disabled={busy}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </form>
      {busy && <progress aria-label="Importing" />}
      {operation && <OperationProgress key={operation.id} operation={operation} onDone={onImported} />}
      <Notices
        error={error}
        message={
          report
            ? `Imported: ${report.created} created, ${report.skipped} skipped, ${report.failed} failed.`
            : ''
        }
      />
      {notCreated.length > 0 && (
        <Scroll label="Lines not created">
          <table>
            <caption>
              Lines not created
              {notCreated.length > SHOWN ? ` (the first ${SHOWN} of ${notCreated.length})` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Result</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {notCreated.slice(0, SHOWN).map((l: Json) => (
                <tr key={l.line}>
                  <td>{l.line}</td>
                  <td>{l.status}</td>
                  <td>
                    {(l.errors ?? [])
                      .map((x: Json) => (x.path ? `${x.path.replace(/^\//, '')}: ${x.message}` : x.message))
                      .join('; ') || (l.status === 'skipped' ? 'a contact with this email exists' : '')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
