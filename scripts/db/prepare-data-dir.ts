// npm install runs this (after generate-client.ts): prepares the embedded database that an empty
// DATA_DIR starts from (src/db/prepared-data-dir.ts) in src/generated/pgdata, unless the one there
// was made by this PGlite with these migrations. `--force` prepares it again anyway.
import { chmodSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openEmbeddedStore } from '../../src/db/embedded.ts';
import { applyMigrations, readMigrationsList } from '../../src/db/migrations.ts';
import { pgliteVersion, preparedDir, preparedStampPath, readPreparedStamp } from '../../src/db/prepared-data-dir.ts';
import type { PreparedStamp } from '../../src/db/prepared-data-dir.ts';

const wanted: PreparedStamp = {
  pglite: pgliteVersion(),
  migrations: readMigrationsList().migrationDirectories.map((dir) => dir.path),
};

if (!process.argv.includes('--force') && JSON.stringify(readPreparedStamp()) === JSON.stringify(wanted)) {
  console.log('The prepared embedded database is up to date.');
  process.exit(0);
}

// Without its stamp, a half-replaced prepared database is never used.
rmSync(preparedStampPath, { force: true });
const work = mkdtempSync(join(dirname(preparedDir), '.pgdata-'));
try {
  const store = await openEmbeddedStore(work, {
    fromPrepared: false,
    prepare: async (connection) => {
      await applyMigrations(connection);
    },
  });
  await store.close();
  readableByAll(join(work, 'pgdata'));
  rmSync(preparedDir, { recursive: true, force: true });
  renameSync(join(work, 'pgdata'), preparedDir);
  writeFileSync(preparedStampPath, `${JSON.stringify(wanted, null, 2)}\n`);
  console.log(`Prepared the embedded database (${wanted.migrations.length} migrations) in ${preparedDir}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
// The wasm schema engine leaves a timer behind: leave once the output is written.
process.exit();

function readableByAll(path: string): void {
  const directory = statSync(path).isDirectory();
  chmodSync(path, directory ? 0o755 : 0o644);
  if (directory) for (const name of readdirSync(path)) readableByAll(join(path, name));
}
