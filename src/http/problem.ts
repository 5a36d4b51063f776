import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/dialect.ts';
import { AppError, type ErrorCode, errorCatalogue, type FieldError } from '../errors.ts';

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

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request: FastifyRequest, reply: FastifyReply) => {
    const { code, detail, errors } = classify(err);
    if (code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
    if (code === 'SERVICE_UNAVAILABLE') {
      request.log.warn({ err }, 'database unavailable');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    }
    return sendProblem(reply, code, detail, errors);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
  );
}
