import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Building blocks of the request and response schemas. Strings that end up in emails, headers or
 * pages refuse control characters (no CR/LF header injection); every string has a length limit.
 */
const NO_CONTROL = '^[^\\u0000-\\u001F\\u007F]*$';

export const Id = Type.String({ format: 'uuid', description: 'A UUIDv7' });
export const Instant = Type.String({ format: 'date-time', description: 'An ISO 8601 instant' });
export const Name = (maxLength = 200) => Type.String({ minLength: 1, maxLength, pattern: NO_CONTROL });
export const Text = (maxLength = 2000) => Type.String({ maxLength, pattern: NO_CONTROL });
export const Email = Type.String({ format: 'email', maxLength: 254, description: 'An email address' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** A path on the portal: starts with one slash, not two (never another origin). */
export const PortalPath = Type.String({
  maxLength: 2000,
  pattern: '^/(?![/\\\\])[^\\u0000-\\u001F\\u007F]*$',
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
