import { Ajv, type Options } from 'ajv';
import formatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Request validation. Bodies are checked strictly: no type coercion ("5" is not 5), unknown
 * fields refused rather than dropped, every error reported. Query strings and path parameters
 * are text by nature, so there numbers and booleans are coerced.
 */
// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (
  ajv: Ajv,
) => Ajv;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
    discriminator: true,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv({ coerceTypes: false });
const textAjv = makeAjv({ coerceTypes: true });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object);

/** A strict validator (the body rules) for data that arrives some other way, e.g. a CSV line. */
export const compileStrictValidator = (schema: object) => bodyAjv.compile(schema);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Deeper JSON than any request of this API needs; refused rather than walked. */
export const MAX_JSON_DEPTH = 32;

/**
 * The path (JSON pointer, under `prefix`) of the first string in `value` that neither database can
 * store the same way: a NUL character (PostgreSQL refuses it) or a lone UTF-16 surrogate (not
 * Unicode text; PostgreSQL refuses it, SQLite would store it); or of a value nested deeper than
 * MAX_JSON_DEPTH. Null when every string is storable. Iterative: no input can exhaust the stack.
 */
export function unstorableTextAt(value: unknown, prefix = ''): { path: string; message: string } | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: prefix, depth: 0 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const problem = textProblem(item.value);
    if (problem) return { path: item.path, message: problem };
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= MAX_JSON_DEPTH)
      return { path: item.path, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    const entries = Object.entries(item.value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, v] = entries[i] as [string, unknown];
      const path = `${item.path}/${key}`;
      const keyProblem = textProblem(key);
      if (keyProblem) return { path, message: `its name ${keyProblem}` };
      stack.push({ value: v, path, depth: item.depth + 1 });
    }
  }
  return null;
}

function textProblem(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  if (value.includes('\u0000')) return 'contains a NUL character, which cannot be stored';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  return null;
}
