import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';

/** Application-generated ids: UUIDv7, so they sort by creation time (cursor paging relies on it). */
export const newId = (): string => uuidv7();

/** True for a string shaped as an id (a lower-case UUID); what to check before a lookup by id. */
export const isId = (s: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);

/** The instant (ms) a UUIDv7 was made at; 0 for an id of another shape. */
export function idTimeMs(id: string): number {
  const hex = `${id.slice(0, 8)}${id.slice(9, 13)}`;
  return /^[0-9a-f]{12}$/i.test(hex) && id[14] === '7' ? Number.parseInt(hex, 16) : 0;
}

/**
 * A UUIDv7-shaped id that is the same for the same `seed` and instant: it sorts with the ids made
 * at `atMs`, and names one aggregate (e.g. an invitation's refused attempts in one minute).
 */
export function derivedId(atMs: number, seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  const time = Math.trunc(atMs).toString(16).padStart(12, '0').slice(-12);
  const variant = ((Number.parseInt(hex[3] as string, 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex.slice(0, 3)}-${variant}${hex.slice(4, 7)}-${hex.slice(7, 19)}`;
}
