import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import pino, { type DestinationStream } from 'pino';

/** Query parameters that can carry a secret: their values never reach a log line. */
const SECRET_PARAMS = /([?&](?:invitation|code|token|key|password)=)[^&#]*/gi;

export const redactUrl = (url: string): string => url.replace(SECRET_PARAMS, '$1[redacted]');

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
        return { ...e, message: redactUrl(e.message), stack: redactUrl(e.stack ?? '') };
      },
    },
  };
}

/** A logger writing to `stream` (tests capture the lines). */
export const loggerTo = (level: string, stream: DestinationStream): FastifyBaseLogger =>
  pino(loggerOptions(level), stream) as unknown as FastifyBaseLogger;
