import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Behind TRUST_PROXY, `request.ip` comes from X-Forwarded-For, which the client can write. Entries
 * that are not IP addresses are dropped before anything reads `request.ip`, so the address audited
 * and rate-limited is always an address (never a string too long for its column, or text).
 */
export function keepForwardedForHonest(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const header = request.headers['x-forwarded-for'];
    if (header === undefined) return;
    const entries = [header]
      .flat()
      .join(',')
      .split(',')
      .map((e) => e.trim())
      .filter((e) => isIP(e) !== 0);
    if (entries.length === 0) delete request.headers['x-forwarded-for'];
    else request.headers['x-forwarded-for'] = entries.join(', ');
  });
}
