// Plain SQL beside Prisma, for the few statements every protocol request runs (oidc-provider's
// rows, src/oidc/adapter.ts): Prisma stays the schema, the migrations and the query layer of
// everything else, but its client costs several times node-pg's CPU per statement. Statements
// are named, so PostgreSQL prepares each once per connection instead of planning it every time.
// The same SQL runs on PostgreSQL (node-pg's pool, shared with Prisma) and on the embedded store
// (PGlite, in this process).
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

export interface SqlStatement {
  /** A name unique to this text: PostgreSQL keeps it prepared per connection. */
  name: string;
  text: string;
}

export interface SqlClient {
  query<Row>(statement: SqlStatement, values: unknown[]): Promise<{ rows: Row[]; rowCount: number }>;
}

type OnQuery = (query: { query: string; duration: number }) => void;

export function sqlOverPool(pool: pg.Pool, onQuery?: OnQuery): SqlClient {
  return {
    async query<Row>({ name, text }: SqlStatement, values: unknown[]) {
      const started = performance.now();
      const result = await pool.query({ name, text, values });
      onQuery?.({ query: text, duration: performance.now() - started });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
  };
}

export function sqlOverPGlite(pglite: PGlite, onQuery?: OnQuery): SqlClient {
  return {
    async query<Row>({ text }: SqlStatement, values: unknown[]) {
      const started = performance.now();
      const result = await pglite.query<Row>(text, values);
      onQuery?.({ query: text, duration: performance.now() - started });
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
  };
}
