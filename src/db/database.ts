// The Prisma client over PostgreSQL (DATABASE_URL) or the embedded PGlite (DATA_DIR), with the
// migrations applied first when asked.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import type { PoolConfig } from 'pg';
import type { Config } from '../config.ts';
import { PrismaClient } from '../generated/prisma/client.ts';
import { openEmbeddedStore } from './embedded.ts';
import { applyMigrations } from './migrations.ts';
import { sqlOverPGlite, sqlOverPool } from './sql.ts';
import type { SqlClient } from './sql.ts';

export type Prisma = InstanceType<typeof PrismaClient>;

export interface Database {
  readonly prisma: Prisma;
  /** "PostgreSQL" or "embedded (DATA_DIR)", for messages. */
  readonly description: string;
  /** Migrations applied by this open, if it was asked to migrate. */
  readonly appliedMigrations: string[];
  /** PostgreSQL's connection pool, for its metrics (absent on the embedded store). */
  readonly pool?: pg.Pool;
  /** Plain SQL for the protocol's hottest statements, on the same connections (db/sql.ts). */
  readonly sql: SqlClient;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations before returning. */
  migrate?: boolean;
  /** Embedded store only: connect to the server that has DATA_DIR open instead of refusing. */
  attach?: boolean;
  /** Maximum connections in the pool. */
  poolSize?: number;
  /** PostgreSQL only: seconds to open a connection (or wait for a free one) and to run one statement. */
  connectTimeoutSeconds?: number;
  statementTimeoutSeconds?: number;
  /** PostgreSQL only: an error on an idle connection (the server went away); the pool replaces it. */
  onPoolError?: (error: Error) => void;
  log?: (line: string) => void;
  /** Called after every SQL statement Prisma runs (for the benchmark's query counts). */
  onQuery?: (query: { query: string; duration: number }) => void;
}

export async function openDatabase(source: Config['database'], options: OpenOptions = {}): Promise<Database> {
  let appliedMigrations: string[] = [];
  const migrate = async (connection: PoolConfig) => {
    if (options.migrate) appliedMigrations = await applyMigrations(connection, options.log);
  };
  // The embedded store's owner migrates before it lets anyone in; an attached process never does.
  const embedded = 'dataDir' in source ? await openEmbeddedStore(source.dataDir, { attach: options.attach, prepare: migrate }) : undefined;
  const connection: PoolConfig = embedded ? embedded.connection : { connectionString: (source as { url: string }).url };
  const description = 'dataDir' in source ? `embedded (${source.dataDir})` : 'PostgreSQL';
  let pool: pg.Pool | undefined;
  try {
    if (!embedded) await migrate(connection);
    let adapter: PrismaPg | PrismaPGlite;
    if (embedded?.pglite) {
      adapter = new PrismaPGlite(embedded.pglite);
    } else {
      // An attached process talks to the embedded store's own server: the timeouts are for PostgreSQL.
      pool = new pg.Pool(embedded ? { ...connection, max: options.poolSize ?? 10 } : poolSettings(connection, options));
      pool.on('error', (error) => options.onPoolError?.(error));
      adapter = new PrismaPg(pool);
    }
    const prisma = options.onQuery
      ? new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] })
      : new PrismaClient({ adapter });
    if (options.onQuery) (prisma as unknown as { $on(event: 'query', cb: (e: { query: string; duration: number }) => void): void }).$on('query', options.onQuery);
    const openPool = pool;
    return {
      prisma,
      description,
      appliedMigrations,
      pool: openPool,
      sql: openPool ? sqlOverPool(openPool, options.onQuery) : sqlOverPGlite(embedded!.pglite!, options.onQuery),
      async close() {
        await prisma.$disconnect();
        await openPool?.end();
        await embedded?.close();
      },
    };
  } catch (error) {
    await pool?.end().catch(() => {});
    await embedded?.close();
    throw error;
  }
}

/**
 * Every call is bounded, so a database that is down or frozen (connections open, no answers)
 * turns into an error within the timeouts instead of a request that hangs: opening a connection
 * or waiting for one, the server's own statement timeout, and a client-side read timeout a little
 * longer for a server that cannot even cancel. Keepalive finds connections a dead server left.
 */
function poolSettings(connection: PoolConfig, options: OpenOptions): PoolConfig {
  const statementMs = (options.statementTimeoutSeconds ?? 10) * 1000;
  return {
    ...connection,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: (options.connectTimeoutSeconds ?? 5) * 1000,
    statement_timeout: statementMs,
    query_timeout: statementMs + 1000,
    // A transaction left open (a replica stalled mid-transaction) must not hold its locks for long.
    idle_in_transaction_session_timeout: statementMs * 2,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
