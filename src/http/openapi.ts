import { STATUS_CODES } from 'node:http';
import { RETRY_AFTER_SECONDS } from './problem.ts';

/**
 * The OpenAPI document's errors as the API sends them: every 4xx and 5xx is
 * application/problem+json (the Problem schema), and every operation lists the errors any request
 * may meet: 400 (a malformed id, query or body), 401 (unless it needs no key), 413 and 415 (when it
 * takes a body), 414, 429, 500 and 503 (with Retry-After). 404 for unknown routes and 405 (with
 * Allow) are described once, in components.responses. Runs as @fastify/swagger's transformObject.
 */
type Json = Record<string, unknown>;
type Operation = { responses?: Record<string, Json>; requestBody?: unknown; security?: unknown[] };

const PROBLEM = { $ref: '#/components/schemas/Problem' };
const problem = (description: string, headers?: Json): Json => ({
  description,
  content: { 'application/problem+json': { schema: PROBLEM } },
  ...(headers ? { headers } : {}),
});

const COMMON: Record<string, string> = {
  '400': 'The request is not valid: a malformed id, query parameter or body (each problem in errors)',
  '414': 'The URL is too long',
  '500': 'Something went wrong on our side (logged)',
};

export function documentProblems<T extends object>(openapiObject: T): T {
  const doc = openapiObject as unknown as Json & {
    paths?: Record<string, Record<string, Operation>>;
    components?: Json;
  };
  for (const ops of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(ops)) {
      op.responses ??= {};
      const responses = op.responses;
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) < 400) continue;
        const given = response.description && response.description !== 'Default Response';
        responses[status] = problem(
          given ? String(response.description) : (STATUS_CODES[Number(status)] ?? 'An error'),
          response.headers as Json,
        );
      }
      const add = (status: string, description: string, headers?: Json) => {
        responses[status] ??= problem(description, headers);
      };
      for (const [status, description] of Object.entries(COMMON)) add(status, description);
      if (!(Array.isArray(op.security) && op.security.length === 0))
        add('401', 'No valid API key or console session');
      if (op.requestBody) {
        add('413', 'The body is larger than this endpoint accepts');
        add('415', 'The body is not application/json (or the type this endpoint names)');
      }
      add('429', 'Too many requests; try again later');
      add('503', 'The database is unavailable; try again after Retry-After seconds', {
        'Retry-After': {
          description: `Seconds to wait (${RETRY_AFTER_SECONDS})`,
          schema: { type: 'integer' },
        },
      });
    }
  }
  doc.components ??= {};
  const components = doc.components as Json;
  components.responses = {
    ...((components.responses as Json | undefined) ?? {}),
    NotFound: problem('No route matches the path (any method): code NOT_FOUND'),
    MethodNotAllowed: problem('The path exists but not for this method: code METHOD_NOT_ALLOWED', {
      Allow: { description: 'The methods the path accepts', schema: { type: 'string' } },
    }),
  };
  return openapiObject;
}
