import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

/**
 * Signed HTTP POSTs to integrators' URLs (webhook endpoints and `call-webhook` steps), after the
 * Standard Webhooks specification: headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature` (`v1,` + base64 HMAC-SHA-256 of `id.timestamp.body`, one per secret, space
 * separated). The id is the idempotency key: a retry of the same message sends the same id.
 *
 * Server-side request forgery guard: unless `allowPrivate`, a request never goes to a loopback,
 * private, link-local, shared, multicast or reserved address. The host is resolved once and the
 * connection made to the address that was checked (no second lookup to rebind); redirects are not
 * followed (a 3xx is an answer like any other, and not a success).
 */

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 96], // the deprecated IPv4-compatible form, :: and ::1 among them
  ['::ffff:0:0:0', 96], // SIIT (IPv4-translated)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64],
  ['2001::', 32], // Teredo: tunnels to an address it does not name plainly
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local, deprecated but still routed by some networks
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** The 16 bytes of an IPv6 address (a trailing dotted IPv4 and `::` allowed), or null. */
function ipv6Bytes(address: string): number[] | null {
  let text = address.split('%')[0] as string;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = (dotted[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  if (all.length !== 8) return null;
  return all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** The IPv4 address an IPv6 one carries (mapped, NAT64 or 6to4), or null. */
function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  if (!b) return null;
  const v4 = (at: number) => b.slice(at, at + 4).join('.');
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12); // ::ffff:a.b.c.d
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12); // NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2); // 6to4
  return null;
}

/**
 * True when `address` (IPv4 or IPv6) is not a public unicast address; an IPv6 address that carries
 * an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address it carries; the compatible and
 * SIIT forms are refused whole.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked.check(address, 'ipv4');
  const v4 = embeddedIpv4(address);
  if (v4 !== null) return blocked.check(v4, 'ipv4');
  return blocked.check(address, 'ipv6');
}

/** Why a URL may not be called, or null. Checks the form only; the address is checked at connect. */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'must use https';
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (
    !allowPrivate &&
    (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) && isPrivateAddress(host)))
  )
    return 'points at a loopback, private or link-local address';
  return null;
}

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
}

function guardedLookup(allowPrivate: boolean) {
  return (
    hostname: string,
    options: object,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !allowPrivate)
        return callback(
          new BlockedAddressError(`${hostname} resolves to a private, loopback or link-local address`),
          [],
        );
      const all = (options as { all?: boolean }).all;
      if (all) return callback(null, list);
      const first = list[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

export interface SignedPost {
  url: string;
  /** The message id (idempotency key), the same on every retry of the message. */
  id: string;
  body: string;
  /** Raw secret keys (the bytes after `whsec_`); each signs, so a rotation's grace period verifies. */
  keys: readonly Buffer[];
  timeoutMs: number;
  now: Date;
}

export interface PostOutcome {
  /** The answer's status, or null when there was none. */
  status: number | null;
  ok: boolean;
  durationMs: number;
  /** The first KB of the answer's body. */
  response: string | null;
  /** Why there was no answer, or why the answer is not a success. */
  error: string | null;
}

export const RESPONSE_KEPT_BYTES = 1024;

/** The Standard Webhooks signature header for a message. */
export function signatureHeader(
  id: string,
  timestamp: number,
  body: string,
  keys: readonly Buffer[],
): string {
  return keys
    .map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`)
    .join(' ');
}

/** HTTP clients with kept-alive connections, one per (scheme, SSRF policy). */
export class WebhookClient {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(readonly allowPrivate: boolean) {
    const lookup = guardedLookup(allowPrivate) as unknown as http.AgentOptions['lookup'];
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 32, lookup }),
      https: new https.Agent({ keepAlive: true, maxSockets: 32, lookup }),
    };
  }

  /** POSTs one signed message; never throws: every failure is an outcome. */
  post(message: SignedPost): Promise<PostOutcome> {
    const started = performance.now();
    const done = (o: Omit<PostOutcome, 'durationMs'>): PostOutcome => ({
      ...o,
      durationMs: Math.round(performance.now() - started),
    });
    const problem = urlProblem(message.url, this.allowPrivate);
    if (problem)
      return Promise.resolve(done({ status: null, ok: false, response: null, error: `The URL ${problem}.` }));
    const url = new URL(message.url);
    const timestamp = Math.floor(message.now.getTime() / 1000);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (o: Omit<PostOutcome, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(done(o));
      };
      const failed = (error: string) => settle({ status: null, ok: false, response: null, error });
      const req = client.request(
        url,
        {
          method: 'POST',
          agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(message.body),
            'user-agent': 'Admit-Webhooks/1',
            'webhook-id': message.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatureHeader(message.id, timestamp, message.body, message.keys),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          const chunks: Buffer[] = [];
          let kept = 0;
          // The answer counts once its status and first KB are in; the rest is not waited for.
          const answered = () => {
            // The first KB as text a database can store (no NUL, no broken last character).
            const text = Buffer.concat(chunks)
              .subarray(0, RESPONSE_KEPT_BYTES)
              .toString('utf8')
              .replaceAll('\u0000', '')
              .replace(/\uFFFD+$/, '');
            settle({
              status,
              ok,
              response: text || null,
              error: ok
                ? null
                : status >= 300 && status < 400
                  ? `Answered ${status}: redirects are not followed.`
                  : `Answered ${status}.`,
            });
          };
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            kept += chunk.length;
            if (kept >= RESPONSE_KEPT_BYTES) {
              answered();
              res.destroy();
            }
          });
          res.on('end', answered);
          res.on('error', () => failed('The connection closed before the answer was complete.'));
          res.on('close', () =>
            res.complete ? answered() : failed('The connection closed before the answer was complete.'),
          );
        },
      );
      // A deadline for the whole exchange, not an idle timeout: a receiver that trickles bytes
      // cannot hold the request open.
      const deadline = setTimeout(() => {
        failed(`No answer within ${message.timeoutMs} ms.`);
        req.destroy();
      }, message.timeoutMs);
      req.on('error', (err) =>
        failed(
          err instanceof BlockedAddressError
            ? `Refused: ${err.message}.`
            : err.message || (err as NodeJS.ErrnoException).code || 'The request failed.',
        ),
      );
      req.on('close', () => failed('The connection closed before the answer was complete.'));
      req.end(message.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
