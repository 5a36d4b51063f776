import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { type Deps, systemActor } from '../context.ts';
import { refreshPlannerStats } from '../db/bulk.ts';
import { type ImportReport, importLines, mapHeader } from '../modules/contacts/contact.import.ts';
import { progressBar } from './progress.ts';

/** Lines per transaction: a chunk is imported, reported and forgotten before the next is read. */
const CHUNK = 1000;
/** The failed and the skipped lines printed, each (the rest are counted). */
const SHOWN = 50;

/**
 * `admit contacts import FILE.csv`: streams the file (100,000 lines never sit in memory at once),
 * imports it chunk by chunk with the API's rules, shows progress, and prints a summary with the lines
 * that failed or were skipped, each with its reason. Returns the exit code: 0, or 1 when a line failed.
 */
export async function importContactsFile(
  deps: Deps,
  file: string,
  out: (line: string) => void,
): Promise<number> {
  const size = statSync(file).size;
  const input = createReadStream(file);
  const parser = input.pipe(
    parse({ relax_column_count: true, skip_empty_lines: true, bom: true, info: true }),
  );
  const bar = progressBar('Importing', size);
  const totals = { created: 0, skipped: 0, failed: 0 };
  const failures: ImportReport['lines'] = [];
  const skips: ImportReport['lines'] = [];
  let columns: ReturnType<typeof mapHeader> | undefined;
  let chunk: { line: number; values: string[] }[] = [];
  const flush = async () => {
    if (!columns || chunk.length === 0) return;
    const report = await importLines(deps, systemActor, columns, chunk);
    totals.created += report.created;
    totals.skipped += report.skipped;
    totals.failed += report.failed;
    for (const l of report.lines) {
      if (l.status === 'failed' && failures.length < SHOWN) failures.push(l);
      if (l.status === 'skipped' && skips.length < SHOWN) skips.push(l);
    }
    chunk = [];
    bar.update(
      input.bytesRead,
      `${totals.created} created, ${totals.skipped} skipped, ${totals.failed} failed`,
    );
  };
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    if (!columns) {
      columns = mapHeader(record);
      continue;
    }
    chunk.push({ line: info.lines, values: record });
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  await refreshPlannerStats(deps.db, 'contacts', totals.created);
  bar.done(`${totals.created} created, ${totals.skipped} skipped, ${totals.failed} failed`);
  out(
    `Imported ${file}: ${totals.created} created, ${totals.skipped} skipped (email already known), ${totals.failed} failed.`,
  );
  const reasons = (l: ImportReport['lines'][number]) =>
    (l.errors ?? []).map((e) => `${e.path || 'line'} ${e.message}`).join('; ');
  for (const f of failures) out(`  line ${f.line}: failed: ${reasons(f)}`);
  if (totals.failed > failures.length) out(`  … and ${totals.failed - failures.length} more failed lines`);
  for (const k of skips) out(`  line ${k.line}: skipped: ${reasons(k)} (contact ${k.contactId})`);
  if (totals.skipped > skips.length) out(`  … and ${totals.skipped - skips.length} more skipped lines`);
  return totals.failed > 0 ? 1 : 0;
}
