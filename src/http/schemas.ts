import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Building blocks of the request and response schemas. Single-line strings (names, subjects,
 * addresses, paths) refuse control characters: C0 (CR, LF, NUL, tab…), DEL, C1 and the Unicode line
 * separators, so nothing can inject a header or a line; every string has a length limit.
 */
export const NO_CONTROL_CHARACTERS = '\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029';
const NO_CONTROL = `^[^${NO_CONTROL_CHARACTERS}]*$`;

export const Id = Type.String({ format: 'uuid', description: 'A UUIDv7' });
export const Instant = Type.String({ format: 'date-time', description: 'An ISO 8601 instant' });
export const Name = (maxLength = 200) => Type.String({ minLength: 1, maxLength, pattern: NO_CONTROL });
export const Text = (maxLength = 2000) => Type.String({ maxLength, pattern: NO_CONTROL });
/** A single-line string that may be empty and has no other rule (a password, a sign-in name). */
export const Line = (maxLength: number, minLength = 0) =>
  Type.String({ minLength, maxLength, pattern: NO_CONTROL });
export const Email = Type.String({ format: 'email', maxLength: 254, description: 'An email address' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** A path on the portal: starts with one slash, not two (never another origin). */
export const PortalPath = Type.String({
  maxLength: 2000,
  pattern: `^/(?![/\\\\])[^${NO_CONTROL_CHARACTERS}]*$`,
});

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem' },
);

/** Standard error responses for the OpenAPI document. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('Problem')]));
