import { Readable } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { AppError } from './errors.ts';

/** The largest CSV body a request may carry (the import and the bulk invite). */
export const MAX_CSV_BYTES = 32 * 1024 * 1024;

/** One CSV record and the line it ends on. */
export interface CsvRecord {
  line: number;
  values: string[];
}

const SLICE = 64 * 1024;
/** Records parsed between two turns of the event loop. */
const RECORDS_PER_TURN = 2_000;

/**
 * The records of a CSV (a string, or a stream such as a file), the header first, without blocking
 * the event loop: the text goes to the parser in slices and the loop turns every few thousand
 * records. Empty lines are skipped and a byte-order mark dropped. Malformed CSV throws
 * VALIDATION_FAILED naming the parser's reason.
 */
export async function* csvRecords(input: string | NodeJS.ReadableStream): AsyncGenerator<CsvRecord> {
  const source =
    typeof input === 'string'
      ? Readable.from(
          (function* () {
            for (let i = 0; i < input.length; i += SLICE) yield input.slice(i, i + SLICE);
          })(),
        )
      : input;
  const parser = source.pipe(
    parse({ relax_column_count: true, skip_empty_lines: true, bom: true, info: true }),
  );
  let n = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      yield { line: info.lines, values: record };
      if (++n % RECORDS_PER_TURN === 0) await turn();
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('VALIDATION_FAILED', `The file is not valid CSV: ${(err as Error).message}`);
  }
}

/**
 * One cell of an exported CSV: quoted when it holds a quote, comma or line break, and neutralised
 * when a spreadsheet would run it as a formula (it starts with =, +, -, @, a tab or a carriage
 * return: prefixed with an apostrophe, OWASP's CSV injection advice). null and undefined are empty.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The lines of an exported CSV: the header, then a row per item of every page `page` gives (from
 * the first, following `nextCursor`), read a page at a time so an export of any size streams.
 */
export async function* csvExport<T>(
  header: readonly string[],
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  row: (item: T) => unknown[],
): AsyncGenerator<string> {
  yield `${header.map(csvCell).join(',')}\r\n`;
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    yield p.items.map((item) => `${row(item).map(csvCell).join(',')}\r\n`).join('');
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
}
