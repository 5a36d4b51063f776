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

/**
 * The path (JSON pointer, under `prefix`) of the first string in `value` that neither database can
 * store the same way: a NUL character (PostgreSQL refuses it) or a lone UTF-16 surrogate (not
 * Unicode text; PostgreSQL refuses it, SQLite would store it). Null when every string is storable.
 */
export function unstorableTextAt(value: unknown, prefix = ''): { path: string; message: string } | null {
  if (typeof value === 'string') {
    if (value.includes('\u0000'))
      return { path: prefix, message: 'contains a NUL character, which cannot be stored' };
    if (LONE_SURROGATE.test(value))
      return { path: prefix, message: 'contains a lone UTF-16 surrogate (not valid Unicode text)' };
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [key, v] of Object.entries(value)) {
    const keyProblem = unstorableTextAt(key, `${prefix}/${key}`);
    if (keyProblem) return keyProblem;
    const found = unstorableTextAt(v, `${prefix}/${key}`);
    if (found) return found;
  }
  return null;
}
