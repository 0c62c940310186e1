// Prisma migrations without Prisma's native engine: the same schema engine, compiled to
// WebAssembly, talks to the database through a driver adapter and keeps the standard
// `_prisma_migrations` table, so `prisma migrate deploy` remains a valid alternative.
// The engine is imported only when there is work for it: once loaded, its WebAssembly memory
// stays with the process, and most starts find every migration applied.
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { PoolConfig } from 'pg';

export const prismaDir = fileURLToPath(new URL('../../prisma/', import.meta.url));
export const schemaPath = join(prismaDir, 'schema.prisma');
export const migrationsDir = join(prismaDir, 'migrations');

const noFilters = { externalTables: [], externalEnums: [] };

export function readMigrationsList(dir = migrationsDir): MigrationList {
  const lockfilePath = join(dir, 'migration_lock.toml');
  const directories = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];
  return {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: existsSync(lockfilePath) ? readFileSync(lockfilePath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: directories.map((name) => {
      const file = join(dir, name, 'migration.sql');
      return {
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: existsSync(file)
            ? { tag: 'ok' as const, value: readFileSync(file, 'utf8') }
            : { tag: 'error' as const, value: `${file} is missing` },
        },
      };
    }),
  };
}

async function openSchemaEngine(factory: SqlMigrationAwareDriverAdapterFactory, log: (line: string) => void = () => {}) {
  const { SchemaEngine } = await import('@prisma/schema-engine-wasm');
  const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
  const schema = readFileSync(schemaPath, 'utf8');
  return SchemaEngine.new(
    { datamodels: [['schema.prisma', schema]] },
    log,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
}

/**
 * Applies every migration not yet applied; returns the names of those it applied. Replicas that
 * start together queue on the engine's advisory lock; one that waits too long tries again.
 */
export async function applyMigrations(connection: PoolConfig, log?: (line: string) => void, attempts = 6): Promise<string[]> {
  if (await allApplied(connection)) return [];
  const { PrismaPg } = await import('@prisma/adapter-pg');
  for (let attempt = 1; ; attempt++) {
    // Our own pool, ended afterwards: the engine's session-level advisory lock goes with it.
    const pool = new pg.Pool({ ...connection, max: 1 });
    const engine = await openSchemaEngine(new PrismaPg(pool) as unknown as SqlMigrationAwareDriverAdapterFactory, log);
    try {
      const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: readMigrationsList(), filters: noFilters });
      return appliedMigrationNames;
    } catch (error) {
      if ((error as { code?: string }).code !== 'P1002' || attempt >= attempts) throw error;
      log?.(`migration lock busy, attempt ${attempt} of ${attempts}`);
    } finally {
      engine.free();
      await pool.end();
    }
  }
}

/** True when every local migration is recorded as applied: no need to start the schema engine. */
async function allApplied(connection: PoolConfig): Promise<boolean> {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(rows.map((row) => row.name));
    return readMigrationsList().migrationDirectories.every((dir) => applied.has(dir.path));
  } catch {
    return false; // no _prisma_migrations table yet
  } finally {
    await client.end();
  }
}

/**
 * The SQL that takes a database from the current migrations to the current schema; null when
 * they already agree. The engine replays the migrations on a throw-away in-memory PGlite.
 */
export async function pendingSchemaChange(): Promise<string | null> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const scratch = await PGlite.create();
  const engine = await openSchemaEngine(new PrismaPGlite(scratch) as unknown as SqlMigrationAwareDriverAdapterFactory);
  try {
    const schema = readFileSync(schemaPath, 'utf8');
    const { stdout } = await engine.diff({
      from: { tag: 'migrations', ...readMigrationsList() },
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    const sql = stdout?.trim() ?? '';
    return sql === '' || /^-- This is an empty migration\.?$/.test(sql) ? null : `${sql}\n`;
  } finally {
    engine.free();
    await scratch.close();
  }
}
