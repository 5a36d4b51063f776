import { AppError } from '../errors.ts';
import { isId } from '../ids.ts';

/**
 * Cursor paging over UUIDv7 ids, newest first. A cursor is the last id of a page, opaque to
 * clients (base64url). Repositories fetch `limit + 1` rows and hand them to `toPage`.
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isId(id))
    throw new AppError('INVALID_CURSOR', 'The cursor is not one this API returned; start again without it.');
  return id;
}

export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1] as T;
  return { items, nextCursor: Buffer.from(last.id, 'utf8').toString('base64url') };
}

/** Where a page sorted by a text key (and then id) ends: the last row's key and id. */
export interface KeyCursor {
  key: string;
  id: string;
}

/** A cursor of a page sorted by a key (`toKeyedPage`); INVALID_CURSOR for anything else. */
export function decodeKeyCursor(cursor: string | undefined): KeyCursor | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof key === 'string' && key.length <= 1000 && typeof id === 'string' && isId(id))
      return { key, id };
  } catch {
    // not JSON: refused below
  }
  throw new AppError(
    'INVALID_CURSOR',
    'The cursor is not one this API returned for this sort; start again without it.',
  );
}

/** `toPage` for rows sorted by `keyOf` (then id): the cursor carries the last row's key and id. */
export function toKeyedPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => string,
): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1] as T;
  return {
    items,
    nextCursor: Buffer.from(JSON.stringify([keyOf(last), last.id]), 'utf8').toString('base64url'),
  };
}
