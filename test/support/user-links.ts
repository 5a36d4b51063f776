import type { Harness } from './harness.ts';
import { outboxMatches } from './portal.ts';

/** The set-password tokens of the console links in the outbox's messages to `to`, once there are `atLeast`. */
export const userLinkTokens = (h: Harness, to: string, atLeast = 1): Promise<string[]> =>
  outboxMatches(h, to, /\/admin#\/set-password\/([0-9a-f-]{36}\.[0-9a-f]{64})/, atLeast, 'console link(s)');
