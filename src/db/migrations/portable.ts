import { type ColumnDataType, type Expression, type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Column types that differ between the dialects, for migrations only (migrations never import
 * application code). SQLite keeps instants as ISO-8601 text, booleans as 0/1 and JSON as text;
 * PostgreSQL uses timestamptz, boolean and jsonb. Row mappers in the repositories even this out.
 */
export function portable(db: Kysely<unknown>) {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    pg,
    instant: (pg ? 'timestamptz' : 'text') as ColumnDataType,
    bool: (pg ? 'boolean' : 'integer') as ColumnDataType,
    json: (pg ? 'jsonb' : 'text') as ColumnDataType,
    id: 'varchar(36)' as ColumnDataType,
    falseValue: (pg ? sql`false` : sql`0`) as Expression<unknown>,
    trueValue: (pg ? sql`true` : sql`1`) as Expression<unknown>,
  };
}
