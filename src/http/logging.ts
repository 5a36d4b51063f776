import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import pino, { type DestinationStream } from 'pino';

/** Query parameters that can carry a secret: their values never reach a log line. */
const SECRET_NAMES = new Set(['invitation', 'code', 'token', 'key', 'password', 'secret']);
/** Such a parameter inside another value (a `returnurl` that carries a landing link). */
const NESTED_SECRET = /(?:^|[?&;])(?:invitation|code|token|key|password|secret)(?:\[[^\]]*\])?=/i;
/** Letters and digits in groups, with what a person or a form puts between a code's groups. */
const GROUPED_RUN = /[0-9A-Za-z]+(?:(?:-|\+|%2D|%20|\s)+[0-9A-Za-z]+)*/gi;
const SEPARATORS = /((?:-|\+|%2D|%20|\s)+)/i;
/** An invitation code has this many characters, however they are grouped (invitation.code.ts). */
const CODE_CHARACTERS = 28;

/**
 * `text` with every invitation code in it, by its shape, replaced by `[redacted]`: consecutive
 * groups of letters and digits that together hold exactly as many characters as a code, however
 * they are grouped (the code parser ignores case, spaces and hyphens). An id (a UUID: 8-4-4-4-12)
 * has no such run; a word or slug that happens to have one is redacted too, which costs nothing.
 */
export function redactCodes(text: string): string {
  return text.replace(GROUPED_RUN, (run) => {
    const parts = run.split(SEPARATORS); // groups at even indexes, separators between
    const hidden = new Set<number>();
    for (let i = 0; i < parts.length; i += 2) {
      let length = 0;
      for (let k = i; k < parts.length && length < CODE_CHARACTERS; k += 2) {
        length += (parts[k] as string).length;
        if (length === CODE_CHARACTERS) for (let m = i; m <= k; m++) hidden.add(m);
      }
    }
    if (hidden.size === 0) return run;
    let out = '';
    for (let m = 0; m < parts.length; m++) {
      if (!hidden.has(m)) out += parts[m];
      else if (!hidden.has(m - 1)) out += '[redacted]';
    }
    return out;
  });
}

/** `s` with percent-encoding (and form `+`) undone until it no longer changes; as is when broken. */
function decoded(s: string): string {
  let out = s;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(out.replace(/\+/g, ' '));
    } catch {
      return out;
    }
    if (next === out) break;
    out = next;
  }
  return out;
}

const carriesSecret = (value: string) => {
  const d = decoded(value);
  return NESTED_SECRET.test(d) || redactCodes(d) !== d;
};

/**
 * A URL fit for a log line: the value of every secret parameter (whatever its case, encoding or
 * array form, `invitation[0]=`), every value that carries one (a `returnurl` holding a landing
 * link) and every path segment or value shaped like an invitation code become `[redacted]`.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q))
    .split('/')
    .map((segment) => (carriesSecret(segment) ? '[redacted]' : segment))
    .join('/');
  if (q < 0) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const i = pair.indexOf('=');
      const name = i < 0 ? pair : pair.slice(0, i);
      const value = i < 0 ? '' : pair.slice(i + 1);
      const bare = decoded(name).toLowerCase().replace(/\[.*$/, '').trim();
      if (SECRET_NAMES.has(bare) || carriesSecret(value) || carriesSecret(name)) return `${name}=[redacted]`;
      return pair;
    })
    .join('&');
  return `${path}?${query}`;
}

/** Free text (an error message, a stack) with every URL in it redacted and every code-shaped word. */
export const redactText = (text: string): string =>
  redactCodes(text.replace(/\S*\?\S*/g, (m) => redactUrl(m)));

/**
 * Request logs without secrets: no Authorization or Cookie header, no codes in URLs.
 * Bodies are never logged.
 */
export function loggerOptions(level: string) {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
      // Framework errors quote the URL in their message (e.g. "Reply was already sent … in /…?invitation=…").
      // A log call must never throw: a value that is not an Error is logged as its text.
      err: (err: Error) => {
        const e =
          err instanceof Error
            ? pino.stdSerializers.err(err)
            : { type: typeof err, message: String(err), stack: '' };
        return { ...e, message: redactText(e.message), stack: redactText(e.stack ?? '') };
      },
    },
  };
}

/** A logger writing to `stream` (tests capture the lines). */
export const loggerTo = (level: string, stream: DestinationStream): FastifyBaseLogger =>
  pino(loggerOptions(level), stream) as unknown as FastifyBaseLogger;
