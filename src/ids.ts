import { createHash, randomFillSync } from 'node:crypto';
import { V7Generator } from 'uuidv7';

/**
 * Random bits for ids, drawn from the system 4 KB at a time: the library's own source asks for 32
 * bytes per call, and a bulk send of 10,000 makes ~40,000 ids (invitations, emails, audit events),
 * 5,000 calls: ~100 ms of the main thread in a profile of the bulk send. Measured alone, 40,000 ids
 * took 34–68 ms that way and take 12–17 ms now (decision 0015).
 */
const bits = new Uint32Array(1024);
let next = bits.length;
const generator = new V7Generator({
  nextUint32: () => {
    if (next === bits.length) {
      randomFillSync(bits);
      next = 0;
    }
    return bits[next++] as number;
  },
});

/** Application-generated ids: UUIDv7, so they sort by creation time (cursor paging relies on it). */
export const newId = (): string => generator.generate().toString();

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
