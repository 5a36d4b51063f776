import { uuidv7 } from 'uuidv7';

/** Application-generated ids: UUIDv7, so they sort by creation time (cursor paging relies on it). */
export const newId = (): string => uuidv7();
