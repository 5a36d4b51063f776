import type { Json } from './api.ts';

/** An instant in the reader's time, with its zone ("3 Dec 2026, 09:12 UTC"); a dash when absent. */
export const when = (iso: string | null | undefined, none = '—') =>
  iso ? new Date(iso).toLocaleString(undefined, { timeZoneName: 'short' }) : none;

/** A contact as people read it: "Ada Lovelace <ada@example.test>", or its email alone. */
export const nameOf = (c: Json | null | undefined) =>
  c ? `${`${c.firstName} ${c.lastName}`.trim() || c.email}${c.email ? ` <${c.email}>` : ''}` : '';
