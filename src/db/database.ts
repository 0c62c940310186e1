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

export type Prisma = InstanceType<typeof PrismaClient>;

export interface Database {
  readonly prisma: Prisma;
  /** "PostgreSQL" or "embedded (DATA_DIR)", for messages. */
  readonly description: string;
  /** Migrations applied by this open, if it was asked to migrate. */
  readonly appliedMigrations: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations before returning. */
  migrate?: boolean;
  /** Embedded store only: connect to the server that has DATA_DIR open instead of refusing. */
  attach?: boolean;
  /** Maximum connections in the pool. */
  poolSize?: number;
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
      pool = new pg.Pool({ ...connection, max: options.poolSize ?? 10 });
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
