import type { FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';

/** Query parameters that can carry a secret: their values never reach a log line. */
const SECRET_PARAMS = /([?&](?:invitation|code|token|key|password)=)[^&#]*/gi;

export const redactUrl = (url: string): string => url.replace(SECRET_PARAMS, '$1[redacted]');

/**
 * Request logs without secrets: no Authorization or Cookie header, no codes in URLs.
 * Bodies are never logged.
 */
export function loggerOptions(
  level: string,
  stream?: DestinationStream,
): Logger | ({ level: string } & object) {
  const options = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
    },
  };
  return stream ? pino(options, stream) : options;
}
