import type { Actor, Deps } from '../../context.ts';
import { csvRecords } from '../../csv.ts';
import { ANALYZE_AFTER_ROWS, refreshPlannerStats } from '../../db/bulk.ts';
import type { DialectName } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import {
  contactIdsMatching,
  findContactIdsByEmails,
  importLinesIn,
  MAX_CSV_LINES,
  mapHeader,
  reasonsOf,
} from '../contacts/contact.ts';
import {
  type ChunkOutcome,
  chunked,
  type OperationFailure,
  type OperationKind,
  type OperationView,
  startOperation,
} from '../operations/operation.ts';
import { type BulkInput, type BulkItem, bulkInviteIn } from './invitation.bulk.ts';
import { resolveExpiry } from './invitation.rules.ts';
import { checkReferences, ownerOf, websiteOfBody } from './invitation.service.ts';

/**
 * "Invite these contacts" as a bulk operation (kind `invitations.bulk`, SPEC 2 and 6): for more
 * contacts than one request holds, every contact matching a search, or a CSV. The options are
 * checked before the operation is stored (a wrong website is a 400 at once); each chunk is one
 * `bulkInviteIn` transaction. A CSV names contacts by a `contactId` or `email` column, or carries
 * the import columns (firstName, lastName, email, …): then a contact whose email is new is created
 * first, in the chunk's transaction, and one that exists is invited.
 */
export const BULK_OPERATION = 'invitations.bulk';

export type BulkOptions = Omit<BulkInput, 'contactIds'>;

/**
 * Contacts per chunk of an operation. An operation's emails are sent while its next chunks are
 * written, and smaller chunks leave less garbage beside the sending (the peak RSS bar of SPEC 11);
 * on PostgreSQL each chunk also costs round trips, so its chunks are larger.
 */
export const OPERATION_BATCH: Record<DialectName, number> = { sqlite: 100, postgres: 250 };

/** Where the contacts come from. */
export type BulkSource =
  | { contactIds: readonly string[] }
  | { matching: { search?: string } }
  | { csv: string | NodeJS.ReadableStream };

interface StoredInput extends BulkOptions {
  source: 'contactIds' | 'matching' | 'csv';
  search?: string;
  /** CSV: `ids` (contactId / email columns, by index) or `contacts` (the import columns). */
  csv?: { shape: 'ids'; contactId: number; email: number } | { shape: 'contacts'; columns: string[] };
}

type CsvLine = { line: number; values: string[] };

export async function startBulkInvite(
  deps: Deps,
  actor: Actor,
  options: BulkOptions,
  source: BulkSource,
): Promise<OperationView> {
  const website = await websiteOfBody(deps, deps.db, options.websiteId);
  const ownerId = ownerOf(actor, options.ownerId);
  await checkReferences(deps.db, website.id, { ...options, ownerId, invitedContactIds: undefined });
  const input: StoredInput = {
    ...options,
    ownerId,
    expiresAt: resolveExpiry(options.expiresAt, website.settings, deps.now()),
    source: 'contactIds' in source ? 'contactIds' : 'matching' in source ? 'matching' : 'csv',
  };
  let items: AsyncIterable<unknown>;
  let positionOf: ((item: CsvLine) => number) | undefined;
  if ('contactIds' in source) {
    items = (async function* () {
      yield* new Set(source.contactIds);
    })();
  } else if ('matching' in source) {
    input.search = source.matching.search;
    items = (async function* () {
      for await (const page of contactIdsMatching(deps, source.matching.search)) yield* page;
    })();
  } else {
    const records = csvRecords(source.csv);
    const header = await records.next();
    if (header.done)
      throw new AppError('VALIDATION_FAILED', 'The file is empty; the first line must name the columns.');
    input.csv = csvShape(header.value.values);
    items = records;
    positionOf = (l) => l.line;
  }
  return startOperation(deps, actor, {
    kind: BULK_OPERATION,
    input: { ...input },
    chunks: chunked(items as AsyncIterable<CsvLine>, OPERATION_BATCH[deps.dialect], positionOf),
    empty: 'No contact to invite.',
    ...(positionOf ? { max: MAX_CSV_LINES } : {}),
  });
}

/** The header of an invitation CSV: which shape it has, or VALIDATION_FAILED. */
function csvShape(header: string[]): NonNullable<StoredInput['csv']> {
  const names = header.map((h) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[\s_-]/g, ''),
  );
  const contactId = names.findIndex((n) => n === 'contactid' || n === 'id');
  // A contactId column names the contacts, whatever else the file carries (a CRM export).
  if (contactId < 0 && names.includes('firstname') && names.includes('lastname'))
    return { shape: 'contacts', columns: mapHeader(header) };
  const email = names.findIndex((n) => n === 'email' || n === 'emailaddress1');
  if (contactId < 0 && email < 0)
    throw new AppError(
      'VALIDATION_FAILED',
      'The header names no contactId or email column (or firstName and lastName, to import new contacts too).',
    );
  return { shape: 'ids', contactId, email };
}

export const bulkInviteOperation: OperationKind = {
  async grown(deps) {
    for (const table of ['contacts', 'invitations', 'invitation_invited_contacts', 'emails'] as const)
      await refreshPlannerStats(deps.db, table, ANALYZE_AFTER_ROWS);
  },
  async doChunk(trx, deps, op, chunk): Promise<ChunkOutcome> {
    const input = op.input as unknown as StoredInput;
    const failures: OperationFailure[] = [];
    // Each item's contact (or its failure), with its position.
    const targets: { position: number; item: string | null; contactId: string }[] = [];
    if (input.source !== 'csv') {
      for (const [i, contactId] of (chunk.items as string[]).entries())
        targets.push({ position: chunk.firstPosition + i, item: contactId, contactId });
    } else if (input.csv?.shape === 'contacts') {
      const report = await importLinesIn(
        trx,
        deps,
        op.actor,
        input.csv.columns as never,
        chunk.items as CsvLine[],
      );
      for (const l of report.lines) {
        if (l.contactId) targets.push({ position: l.line, item: l.contactId, contactId: l.contactId });
        else
          failures.push({
            position: l.line,
            item: null,
            code: 'VALIDATION_FAILED',
            detail: reasonsOf(l.errors),
          });
      }
    } else if (input.csv) {
      const { contactId: idAt, email: emailAt } = input.csv;
      const lines = chunk.items as CsvLine[];
      const emails = lines.flatMap((l) =>
        idAt >= 0 && l.values[idAt]?.trim() ? [] : [l.values[emailAt]?.trim() ?? ''],
      );
      const byEmail = await findContactIdsByEmails(trx, emails.filter(Boolean));
      for (const l of lines) {
        const id = idAt >= 0 ? l.values[idAt]?.trim() : '';
        const email = emailAt >= 0 ? (l.values[emailAt]?.trim() ?? '') : '';
        const found = id || byEmail.get(email.toLowerCase());
        if (found) targets.push({ position: l.line, item: id || email, contactId: found });
        else
          failures.push({
            position: l.line,
            item: email || null,
            code: 'NOT_FOUND',
            detail: email ? 'No contact has this email.' : 'The line names no contactId or email.',
          });
      }
    }
    const seen = new Map<string, number>();
    const unique = targets.filter((t) => {
      const first = seen.get(t.contactId);
      if (first === undefined) {
        seen.set(t.contactId, t.position);
        return true;
      }
      failures.push({
        position: t.position,
        item: t.item,
        code: 'DUPLICATE',
        detail: `This contact is on line ${first} already.`,
      });
      return false;
    });
    const result = await bulkInviteIn(trx, deps, op.actor, {
      ...input,
      contactIds: unique.map((t) => t.contactId),
    });
    const byContact = new Map<string, BulkItem>(result.items.map((i) => [i.contactId, i]));
    let queued = result.queued;
    for (const t of unique) {
      const item = byContact.get(t.contactId);
      if (!item) continue;
      const noEmail = item.status === 'queued' && (item.failedNoPrimaryEmail ?? 0) > 0;
      if (noEmail) queued -= 1;
      const notSent = input.send === true && (item.status === 'created' || noEmail);
      if (item.status === 'rejected' || item.status === 'skipped' || notSent)
        failures.push({
          position: t.position,
          item: t.item,
          code: noEmail ? 'NO_PRIMARY_EMAIL' : (item.code ?? 'INTERNAL'),
          detail: noEmail
            ? 'Created, not sent: the contact has no primary email.'
            : (item.detail ?? (notSent ? 'Created, not sent.' : 'Not created.')),
        });
    }
    failures.sort((a, b) => a.position - b.position);
    return { created: result.created, queued, failures };
  },
};
