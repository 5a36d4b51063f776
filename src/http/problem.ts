import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { isDatabaseUnavailable } from '../db/dialect.ts';
import { AppError, type ErrorCode, errorCatalogue, type FieldError } from '../errors.ts';
import { unstorableTextAt } from './validation.ts';

/** What a 503 asks clients to wait before they try again. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The one error handler: every error leaves as application/problem+json with a stable `code`.
 * Bad input is a 4xx naming each problem; only our own faults are 500s, and those are logged.
 */
interface AjvError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: {
    missingProperty?: string;
    additionalProperty?: string;
    allowedValues?: unknown[];
    format?: string;
  };
}

/** Ajv's errors as the field errors people read (the API's 400s, the CSV import's report). */
export function fieldErrors(validation: readonly AjvError[], context: string): FieldError[] {
  const prefix = context === 'body' ? '' : `/${context}`;
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const v of validation) {
    let path = `${prefix}${v.instancePath ?? ''}`;
    let message = v.message ?? 'is not valid';
    if (v.keyword === 'required' && v.params?.missingProperty) {
      path = `${path}/${v.params.missingProperty}`;
      message = 'is required';
    } else if (v.keyword === 'additionalProperties' && v.params?.additionalProperty) {
      path = `${path}/${v.params.additionalProperty}`;
      message = 'is not a known field';
    } else if (v.keyword === 'pattern') {
      message = 'contains characters that are not allowed (such as line breaks)';
    } else if (v.keyword === 'format' && v.params?.format === 'email') {
      message = 'is not an email address (like name@example.com)';
    } else if (v.keyword === 'enum' && v.params?.allowedValues) {
      message = `must be one of ${v.params.allowedValues.map((a) => JSON.stringify(a)).join(', ')}`;
    }
    const key = `${path} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}

export function problemBody(code: ErrorCode, detail: string, errors?: FieldError[]) {
  const { status, title } = errorCatalogue[code];
  return {
    type: `https://admit.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    detail,
    code,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, code: ErrorCode, detail: string, errors?: FieldError[]) {
  const body = problemBody(code, detail, errors);
  return reply.status(body.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/** Maps any thrown value to (code, detail, errors). */
export function classify(err: unknown): { code: ErrorCode; detail: string; errors?: FieldError[] } {
  if (err instanceof AppError) return { code: err.code, detail: err.detail, errors: err.errors };
  if (isDatabaseUnavailable(err))
    return {
      code: 'SERVICE_UNAVAILABLE',
      detail: 'The database cannot be reached right now; try again in a few seconds.',
    };
  const e = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (e.validation) {
    const errors = fieldErrors(e.validation, e.validationContext ?? 'body');
    return {
      code: 'VALIDATION_FAILED',
      detail: errors.map((x) => `${x.path || 'body'} ${x.message}`).join('; '),
      errors,
    };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', detail: 'The body is larger than this endpoint accepts.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        detail: 'Send application/json (or text/csv where the endpoint says so).',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'VALIDATION_FAILED', detail: 'The body is empty; send a JSON object.' };
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return { code: 'MALFORMED_JSON', detail: 'The body is not valid JSON.' };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const byStatus: Record<number, ErrorCode> = {
      401: 'UNAUTHENTICATED',
      403: 'FORBIDDEN',
      404: 'NOT_FOUND',
      413: 'PAYLOAD_TOO_LARGE',
      415: 'UNSUPPORTED_MEDIA_TYPE',
      429: 'RATE_LIMITED',
    };
    return { code: byStatus[e.statusCode] ?? 'VALIDATION_FAILED', detail: e.message };
  }
  return { code: 'INTERNAL', detail: 'An unexpected error occurred; it has been logged.' };
}

/** How much of a refused body is read and dropped, and for how long, before the socket is cut. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const DRAIN_LIMIT_MS = 10_000;

/**
 * A body refused as too large stops being parsed, but a client that sent no `Expect: 100-continue`
 * is still writing it and reads the answer only afterwards: the rest is read and dropped (up to
 * DRAIN_LIMIT_BYTES and DRAIN_LIMIT_MS, then the connection is cut), so the client reads the 413
 * instead of a reset, and a slow sender cannot hold the connection.
 */
function drainRefusedBody(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let drained = 0;
    const cut = () => {
      raw.destroy();
      resolve();
    };
    const timer = setTimeout(cut, DRAIN_LIMIT_MS);
    raw.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) cut();
    });
    for (const event of ['end', 'close', 'error'])
      raw.once(event, () => {
        clearTimeout(timer);
        resolve();
      });
    raw.resume();
  });
}

/** The longest URL served (longer ones get 414, as do path segments beyond the router's limit). */
export const MAX_URL_LENGTH = 8192;

const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The one error path of the whole application, installed before any route: every error, from a
 * handler, the router (404, 405 with `Allow`, 414), the body parser (413, 415) or the HTTP parser
 * itself (400, 408, 414, 431), leaves as application/problem+json. Text neither database can store
 * (NUL, lone surrogates) in a body, query or path is a 400 before any handler runs.
 */
export function registerProblemHandlers(app: FastifyInstance): void {
  const routes = FindMyWay({ ignoreTrailingSlash: true });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat() as HTTPMethod[])
      if (!routes.hasRoute(method, route.url)) routes.on(method, route.url, () => {});
  });
  app.addHook('onRequest', async (request) => {
    if (request.url.length > MAX_URL_LENGTH)
      throw new AppError('URI_TOO_LONG', `URLs are at most ${MAX_URL_LENGTH} characters.`);
  });
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['body', request.body],
      ['query', request.query],
      ['params', request.params],
    ] as const) {
      const found = unstorableTextAt(value, part === 'body' ? '' : `/${part}`);
      if (found) throw new AppError('VALIDATION_FAILED', `${found.path || 'body'} ${found.message}`, [found]);
    }
  });
  app.setErrorHandler(async (err, request: FastifyRequest, reply: FastifyReply) => {
    const { code, detail, errors } = classify(err);
    if (code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
    // The answer goes once the body is read: a reply sent mid-upload makes Node close the socket.
    if (code === 'PAYLOAD_TOO_LARGE') await drainRefusedBody(request);
    if (code === 'SERVICE_UNAVAILABLE') {
      request.log.warn({ err }, 'database unavailable');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    }
    return sendProblem(reply, code, detail, errors);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] as string;
    const allowed = METHODS.filter((m) => routes.find(m, path) !== null);
    if (allowed.length === 0) return sendProblem(reply, 'NOT_FOUND', `No route ${request.method} ${path}.`);
    reply.header('allow', allowed.join(', '));
    return sendProblem(
      reply,
      'METHOD_NOT_ALLOWED',
      `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}.`,
    );
  });
}

/** Fastify's `frameworkErrors`: a URL the router cannot decode (400) or a path segment too long (414). */
export function frameworkProblem(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return sendProblem(reply, 'URI_TOO_LONG', 'A segment of the URL is longer than any id or slug.');
  return sendProblem(reply, 'VALIDATION_FAILED', 'The URL is not valid (a bad percent-encoding?).');
}

/**
 * Fastify's `clientErrorHandler`: requests the HTTP parser refused before any route saw them, written
 * straight to the socket as problem+json (a request line too long is a 414, other headers 431).
 */
export function clientProblem(error: Error, socket: Socket): void {
  const err = error as NodeJS.ErrnoException & { rawPacket?: Buffer };
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let code: ErrorCode = 'VALIDATION_FAILED';
  let detail = 'The request is not valid HTTP.';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    code = 'REQUEST_TIMEOUT';
    detail = 'The request did not arrive in time.';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    const firstLine = err.rawPacket?.subarray(0, MAX_URL_LENGTH + 100).indexOf('\r\n') ?? -1;
    const longUrl = firstLine === -1 || firstLine > MAX_URL_LENGTH;
    code = longUrl ? 'URI_TOO_LONG' : 'HEADERS_TOO_LARGE';
    detail = longUrl
      ? `URLs are at most ${MAX_URL_LENGTH} characters.`
      : 'The request headers are too large.';
  }
  const body = JSON.stringify(problemBody(code, detail));
  const { status, title } = errorCatalogue[code];
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}
