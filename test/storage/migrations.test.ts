// prisma/schema.prisma and prisma/migrations tell the same story, and applying them is idempotent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { openEmbeddedStore } from '../../src/db/embedded.ts';
import { pendingSchemaChange, readMigrationsList } from '../../src/db/migrations.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { StoreKind } from '../support/stores.ts';

describe('migrations', () => {
  it('match the Prisma schema: nothing is left to migrate', async () => {
    expect(await pendingSchemaChange()).toBeNull();
  });

  it('each have a migration.sql', () => {
    const { migrationDirectories } = readMigrationsList();
    expect(migrationDirectories.length).toBeGreaterThan(0);
    for (const directory of migrationDirectories) expect(directory.migrationFile.content.tag, directory.path).toBe('ok');
  });
});

/** A database that has never been migrated (the test stores' PGlite template already is). */
async function emptyDatabase(kind: StoreKind): Promise<{ source: Config['database']; dispose(): Promise<void> }> {
  if (kind === 'postgres') return createTestStore(kind);
  const dataDir = mkdtempSync(join(tmpdir(), 'sesame-empty-'));
  // PGlite's own initdb: an empty DATA_DIR would otherwise start from the prepared (migrated) one.
  await (await openEmbeddedStore(dataDir, { fromPrepared: false })).close();
  return { source: { dataDir }, dispose: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

describe.each(STORES)('applying migrations on %s', (kind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('applies every migration once, and nothing the second time', { timeout: 120_000 }, async () => {
    const database = await emptyDatabase(kind);
    cleanups.push(() => database.dispose());
    const names = readMigrationsList().migrationDirectories.map((directory) => directory.path);

    const first = await openDatabase(database.source, { migrate: true });
    try {
      expect(first.appliedMigrations).toEqual(names);
      expect(await first.prisma.oidcPayload.count()).toBe(0);
    } finally {
      await first.close();
    }

    const second = await openDatabase(database.source, { migrate: true });
    try {
      expect(second.appliedMigrations).toEqual([]);
      const history = await second.prisma.$queryRaw<{ migration_name: string; finished: boolean }[]>`
        SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name`;
      expect(history).toEqual(names.map((name) => ({ migration_name: name, finished: true })));
    } finally {
      await second.close();
    }
  });
});
