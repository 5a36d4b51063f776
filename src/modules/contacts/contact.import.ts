import { setImmediate as turn } from 'node:timers/promises';
import type { Actor, Deps } from '../../context.ts';
import { type CsvRecord, csvRecords } from '../../csv.ts';
import { ANALYZE_AFTER_ROWS, refreshPlannerStats } from '../../db/bulk.ts';
import type { Conn, DialectName } from '../../db/database.ts';
import { AppError, type FieldError } from '../../errors.ts';
import { fieldErrors } from '../../http/problem.ts';
import { compileStrictValidator } from '../../http/validation.ts';
import { newId } from '../../ids.ts';
import { recordAudit } from '../events/event.ts';
import { chunked, type OperationKind, type OperationView, startOperation } from '../operations/operation.ts';
import * as accounts from './account.repository.ts';
import type { Contact } from './contact.repository.ts';
import * as repo from './contact.repository.ts';
import { ContactCsvRow } from './contact.schemas.ts';

/**
 * CSV import of contacts. The header names the columns (any case, spaces or underscores):
 * firstName, lastName, email, email2, email3, parentAccountId. Each line is checked like an API
 * body; valid lines are created, the others reported with their reasons. A line whose primary email
 * some contact already has is skipped (its report names that contact), so importing the same file
 * twice is harmless. Lines are imported in chunks of IMPORT_CHUNK, each one transaction, with the
 * event loop free between chunks; a file of more than SYNC_IMPORT_LINES lines runs as a bulk
 * operation (kind `contacts.import`).
 */
export interface ImportLine {
  line: number;
  status: 'created' | 'skipped' | 'failed';
  contactId?: string;
  errors?: FieldError[];
}

export interface ImportReport {
  created: number;
  skipped: number;
  failed: number;
  lines: ImportLine[];
}

const COLUMNS: Record<string, keyof typeof ContactCsvRow.properties> = {
  firstname: 'firstName',
  lastname: 'lastName',
  email: 'email',
  emailaddress1: 'email',
  email2: 'email2',
  emailaddress2: 'email2',
  email3: 'email3',
  emailaddress3: 'email3',
  parentaccountid: 'parentAccountId',
  accountid: 'parentAccountId',
};

const validateRow = compileStrictValidator(ContactCsvRow);
const BATCH = 500;
/** Lines per transaction: each is a few tens of milliseconds of writing, so requests get through. */
export const IMPORT_CHUNK: Record<DialectName, number> = { sqlite: 500, postgres: 1_000 };
/** Larger files are imported as a bulk operation (202) rather than in the request. */
export const SYNC_IMPORT_LINES = 10_000;
export const IMPORT_OPERATION = 'contacts.import';
/** The most lines one CSV may carry into an operation (import or invite). */
export const MAX_CSV_LINES = {
  items: 200_000,
  message: 'The file has more than 200,000 lines; split it and send the parts.',
};

type Column = keyof typeof ContactCsvRow.properties;

export function mapHeader(header: string[]): Column[] {
  const unknown: string[] = [];
  const mapped = header.map((h) => {
    const key = COLUMNS[h.toLowerCase().replace(/[\s_-]/g, '')];
    if (!key) unknown.push(h);
    return key as Column;
  });
  if (unknown.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Unknown column(s): ${unknown.join(', ')}. Columns are firstName, lastName, email, email2, email3, parentAccountId.`,
    );
  }
  for (const required of ['firstName', 'lastName'] as const) {
    if (!mapped.includes(required))
      throw new AppError('VALIDATION_FAILED', `The header has no ${required} column.`);
  }
  return mapped;
}

/** Checks one line's values; returns the row fields or the line's errors. */
export function checkLine(
  columns: readonly Column[],
  values: readonly string[],
): { fields: Record<string, string> } | { errors: FieldError[] } {
  if (values.length !== columns.length) {
    return { errors: [{ path: '', message: `expected ${columns.length} values, found ${values.length}` }] };
  }
  const fields: Record<string, string> = {};
  columns.forEach((c, i) => {
    const v = (values[i] ?? '').trim();
    if (v !== '') fields[c] = v;
  });
  if (validateRow(fields)) return { fields };
  return { errors: fieldErrors(validateRow.errors ?? [], 'body') };
}

/**
 * Imports a CSV text: in the request (the report of every line) when it has at most
 * SYNC_IMPORT_LINES lines and `async` is not asked for, otherwise as a queued bulk operation.
 * Throws VALIDATION_FAILED for a file that is not CSV or whose header is wrong; nothing is written.
 */
export async function importContactsCsv(
  deps: Deps,
  actor: Actor,
  csv: string,
  o: { async?: boolean } = {},
): Promise<{ report: ImportReport } | { operation: OperationView }> {
  const records = csvRecords(csv);
  const header = await records.next();
  if (header.done)
    throw new AppError('VALIDATION_FAILED', 'The file is empty; the first line must name the columns.');
  const columns = mapHeader(header.value.values);
  // Up to SYNC_IMPORT_LINES lines are imported in the request; past that, or when asked, the lines
  // read so far and the rest of the file become an operation's input as they are read.
  const lines: CsvRecord[] = [];
  let more = !o.async;
  while (more) {
    const next = await records.next();
    if (next.done) break;
    lines.push(next.value);
    more = lines.length <= SYNC_IMPORT_LINES;
  }
  const size = IMPORT_CHUNK[deps.dialect];
  if (o.async || lines.length > SYNC_IMPORT_LINES) {
    const all = (async function* () {
      yield* lines.splice(0);
      yield* records;
    })();
    const operation = await startOperation(deps, actor, {
      kind: IMPORT_OPERATION,
      input: { columns },
      chunks: chunked(all, size, (l) => l.line),
      empty: 'The file has no line after its header.',
      max: MAX_CSV_LINES,
    });
    return { operation };
  }
  const report: ImportReport = { created: 0, skipped: 0, failed: 0, lines: [] };
  for (let i = 0; i < lines.length || i === 0; i += size) {
    const part = await importLines(deps, actor, columns, lines.slice(i, i + size));
    report.created += part.created;
    report.skipped += part.skipped;
    report.failed += part.failed;
    for (const l of part.lines) report.lines.push(l);
    await turn();
  }
  await refreshPlannerStats(deps.db, 'contacts', report.created);
  return { report };
}

/** Imports already-split lines in one transaction (the CLI streams a file through here in chunks). */
export async function importLines(
  deps: Deps,
  actor: Actor,
  columns: readonly Column[],
  lines: readonly { line: number; values: readonly string[] }[],
): Promise<ImportReport> {
  return deps.db.transaction().execute((trx) => importLinesIn(trx, deps, actor, columns, lines));
}

/** `importLines` inside the caller's transaction. */
export async function importLinesIn(
  trx: Conn,
  deps: Deps,
  actor: Actor,
  columns: readonly Column[],
  lines: readonly { line: number; values: readonly string[] }[],
): Promise<ImportReport> {
  const report: ImportReport = { created: 0, skipped: 0, failed: 0, lines: [] };
  const candidates: { line: number; fields: Record<string, string> }[] = [];
  for (const { line, values } of lines) {
    const checked = checkLine(columns, values);
    if ('errors' in checked) report.lines.push({ line, status: 'failed', errors: checked.errors });
    else candidates.push({ line, fields: checked.fields });
  }

  const now = deps.now().toISOString();
  const toInsert: Contact[] = [];
  const accountIds = [
    ...new Set(candidates.flatMap((c) => (c.fields.parentAccountId ? [c.fields.parentAccountId] : []))),
  ];
  const knownAccounts = new Set<string>();
  for (const id of accountIds) if (await accounts.findAccount(trx, id)) knownAccounts.add(id);
  const emails = [
    ...new Set(candidates.flatMap((c) => (c.fields.email ? [c.fields.email.toLowerCase()] : []))),
  ];
  const taken = await repo.findContactIdsByEmails(trx, emails);

  for (const { line, fields } of candidates) {
    if (fields.parentAccountId && !knownAccounts.has(fields.parentAccountId)) {
      report.lines.push({
        line,
        status: 'failed',
        errors: [{ path: '/parentAccountId', message: `No account with id ${fields.parentAccountId}.` }],
      });
      continue;
    }
    const email = fields.email?.toLowerCase();
    const existing = email ? taken.get(email) : undefined;
    if (existing) {
      report.lines.push({
        line,
        status: 'skipped',
        contactId: existing,
        errors: [{ path: '/email', message: 'A contact with this email already exists.' }],
      });
      continue;
    }
    const row: Contact = {
      id: newId(),
      firstName: fields.firstName as string,
      lastName: fields.lastName as string,
      email: fields.email ?? null,
      email2: fields.email2 ?? null,
      email3: fields.email3 ?? null,
      parentAccountId: fields.parentAccountId ?? null,
      username: null,
      loginEnabled: false,
      emailConfirmed: false,
      lastSignInAt: null,
      pendingEmail: null,
      createdAt: now,
      updatedAt: now,
    };
    if (email) taken.set(email, row.id);
    toInsert.push(row);
    report.lines.push({ line, status: 'created', contactId: row.id });
  }
  for (let i = 0; i < toInsert.length; i += BATCH)
    await repo.insertContacts(trx, toInsert.slice(i, i + BATCH));
  if (toInsert.length > 0) {
    // One event per chunk (not one per line): an import is one administrative change.
    await recordAudit(
      trx,
      deps,
      actor,
      'contact.imported',
      { type: 'contact_import', id: newId() },
      {
        created: toInsert.length,
        firstContactId: toInsert[0]?.id,
        lastContactId: toInsert[toInsert.length - 1]?.id,
      },
    );
  }

  report.lines.sort((a, b) => a.line - b.line);
  for (const l of report.lines) report[l.status] += 1;
  return report;
}

/** A line's reasons as one sentence, for an operation's failure. */
export const reasonsOf = (errors: readonly FieldError[] | undefined) =>
  (errors ?? []).map((e) => `${e.path || 'line'} ${e.message}`).join('; ') || 'not imported';

/** The `contacts.import` operation: each chunk is `importLinesIn` of its lines. */
export const importOperation: OperationKind = {
  async doChunk(trx, deps, op, chunk) {
    const report = await importLinesIn(
      trx,
      deps,
      op.actor,
      op.input.columns as Column[],
      chunk.items as { line: number; values: string[] }[],
    );
    return {
      created: report.created,
      skipped: report.skipped,
      failures: report.lines
        .filter((l) => l.status === 'failed')
        .map((l) => ({
          position: l.line,
          item: null,
          code: 'VALIDATION_FAILED',
          detail: reasonsOf(l.errors),
        })),
    };
  },
  grown: (deps) => refreshPlannerStats(deps.db, 'contacts', ANALYZE_AFTER_ROWS),
};
