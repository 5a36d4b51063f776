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
