// The databases every storage-dependent suite runs on: the embedded PGlite always, and
// PostgreSQL when TEST_DATABASE_URL is set (CI sets it). Each suite gets a fresh database.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Config } from '../../src/config.ts';

export type StoreKind = 'pglite' | 'postgres';

export const STORES: StoreKind[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestStore {
  kind: StoreKind;
  source: Config['database'];
  /** The same database as settings, for code that reads the environment (the CLI). */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export async function createTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'pglite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'sesame-test-'));
    cpSync(inject('pgliteTemplate'), dataDir, { recursive: true });
    return {
      kind,
      source: { dataDir },
      env: { DATA_DIR: dataDir },
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const base = new URL(process.env.TEST_DATABASE_URL!);
  const name = `sesame_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.href });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base.href);
  url.pathname = `/${name}`;
  return {
    kind,
    source: { url: url.href },
    env: { DATABASE_URL: url.href },
    async dispose() {
      const client = new pg.Client({ connectionString: base.href });
      await client.connect();
      // Let connections that are closing finish first: killing one mid-goodbye (FORCE) makes
      // node-postgres raise an error nobody is listening for any more.
      for (let waited = 0; waited < 5000; waited += 100) {
        const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
