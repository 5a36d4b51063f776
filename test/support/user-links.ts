import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually } from './eventually.ts';
import type { Harness } from './harness.ts';

/** The set-password tokens of the console links in the outbox's messages to `to`, once there are `atLeast`. */
export async function userLinkTokens(h: Harness, to: string, atLeast = 1): Promise<string[]> {
  const dir = path.join(h.deps.config.dataDir, 'outbox');
  return eventually(
    () => {
      let files: string[] = [];
      try {
        files = readdirSync(dir);
      } catch {
        return undefined;
      }
      const tokens: string[] = [];
      for (const f of files.sort()) {
        const raw = readFileSync(path.join(dir, f), 'utf8').replace(/=\r?\n/g, '');
        if (!raw.includes(`To: ${to}`)) continue;
        const m = /\/admin#\/set-password\/([0-9a-f-]{36}\.[0-9a-f]{64})/.exec(raw);
        if (m?.[1]) tokens.push(m[1]);
      }
      return tokens.length >= atLeast ? tokens : undefined;
    },
    15_000,
    `${atLeast} console link(s) to ${to}`,
  );
}
