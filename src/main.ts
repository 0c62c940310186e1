// Start-up: read the settings, open (and migrate) the database, build Sésame, listen, and shut
// down cleanly on SIGINT/SIGTERM.
import { ConfigError, loadConfig, readEnvironment } from './config.ts';
import { openDatabase } from './db/database.ts';
import { createLogger } from './log.ts';
import { createSesame } from './server.ts';

let config;
try {
  config = loadConfig(readEnvironment());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const log = createLogger({ level: config.logLevel });
const started = performance.now();
const db = await openDatabase(config.database, { migrate: true, log: (line) => log.debug({ engine: line }, 'schema engine') });
if (db.appliedMigrations.length) log.info({ migrations: db.appliedMigrations }, 'applied database migrations');

const sesame = await createSesame({ config, db, log });
const { url } = await sesame.listen();
log.info({ url, issuer: config.issuer, database: db.description, ms: Math.round(performance.now() - started) }, `Sésame is listening on ${url} — discovery at ${config.issuer}/.well-known/openid-configuration`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await sesame.close();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
