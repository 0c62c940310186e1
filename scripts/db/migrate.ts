// npm run db:migrate — applies pending migrations to DATABASE_URL, or to the embedded database in
// DATA_DIR. The server does this by itself at start; this is for deployments that migrate first.
import { ConfigError, loadConfig, readEnvironment } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';

try {
  const config = loadConfig(readEnvironment());
  const db = await openDatabase(config.database, { migrate: true });
  await db.close();
  console.log(
    db.appliedMigrations.length
      ? `Applied ${db.appliedMigrations.length} migration(s) to ${db.description}:\n  ${db.appliedMigrations.join('\n  ')}`
      : `${db.description} is up to date.`,
  );
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Migration failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
// The wasm schema engine leaves a timer behind: leave once the output is written.
process.exit();
