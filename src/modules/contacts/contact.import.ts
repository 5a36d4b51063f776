import { parse } from 'csv-parse/sync';
import type { Actor, Deps } from '../../context.ts';
import { refreshPlannerStats } from '../../db/bulk.ts';
import { AppError, type FieldError } from '../../errors.ts';
import { fieldErrors } from '../../http/problem.ts';
import { compileStrictValidator } from '../../http/validation.ts';
import { newId } from '../../ids.ts';
import { recordAudit } from '../events/audit.service.ts';
import * as accounts from './account.repository.ts';
import type { ContactRow } from './contact.repository.ts';
import * as repo from './contact.repository.ts';
import { ContactCsvRow } from './contact.schemas.ts';

/**
 * CSV import of contacts. The header names the columns (any case, spaces or underscores):
 * firstName, lastName, email, email2, email3, parentAccountId. Each line is checked like an API
 * body; valid lines are created in one transaction, the others reported with their reasons. A line
 * whose primary email some contact already has is skipped, so importing the same file twice is
 * harmless.
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

export function mapHeader(header: string[]): (keyof typeof ContactCsvRow.properties)[] {
  const unknown: string[] = [];
  const mapped = header.map((h) => {
    const key = COLUMNS[h.toLowerCase().replace(/[\s_-]/g, '')];
    if (!key) unknown.push(h);
    return key as keyof typeof ContactCsvRow.properties;
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
  columns: readonly (keyof typeof ContactCsvRow.properties)[],
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

export async function importContactsCsv(deps: Deps, actor: Actor, csv: string): Promise<ImportReport> {
  let records: string[][];
  try {
    records = parse(csv, { relax_column_count: true, skip_empty_lines: true, bom: true });
  } catch (err) {
    throw new AppError('VALIDATION_FAILED', `The file is not valid CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header)
    throw new AppError('VALIDATION_FAILED', 'The file is empty; the first line must name the columns.');
  const columns = mapHeader(header);
  const report = await importLines(
    deps,
    actor,
    columns,
    rows.map((values, i) => ({ line: i + 2, values })),
  );
  await refreshPlannerStats(deps.db, 'contacts', report.created);
  return report;
}

/** Imports already-split lines (the CLI streams a file through here in chunks). */
export async function importLines(
  deps: Deps,
  actor: Actor,
  columns: readonly (keyof typeof ContactCsvRow.properties)[],
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
  const toInsert: ContactRow[] = [];
  await deps.db.transaction().execute(async (trx) => {
    const accountIds = [
      ...new Set(candidates.flatMap((c) => (c.fields.parentAccountId ? [c.fields.parentAccountId] : []))),
    ];
    const knownAccounts = new Set<string>();
    for (const id of accountIds) if (await accounts.findAccount(trx, id)) knownAccounts.add(id);
    const emails = [
      ...new Set(candidates.flatMap((c) => (c.fields.email ? [c.fields.email.toLowerCase()] : []))),
    ];
    const taken = await repo.findExistingEmails(trx, emails);

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
      if (email && taken.has(email)) {
        report.lines.push({
          line,
          status: 'skipped',
          errors: [{ path: '/email', message: 'A contact with this email already exists.' }],
        });
        continue;
      }
      if (email) taken.add(email);
      const row: ContactRow = {
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
      toInsert.push(row);
      report.lines.push({ line, status: 'created', contactId: row.id });
    }
    for (let i = 0; i < toInsert.length; i += BATCH)
      await repo.insertContacts(trx, toInsert.slice(i, i + BATCH));
    if (toInsert.length > 0) {
      // One event per import (not one per line): the import is one administrative change.
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
  });

  report.lines.sort((a, b) => a.line - b.line);
  for (const l of report.lines) report[l.status] += 1;
  return report;
}
