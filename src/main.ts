// Start-up: read the settings, open (and migrate) the database, build Sésame, listen, and shut
// down cleanly on SIGINT/SIGTERM.
import { ConfigError, loadConfig, readEnvironment } from './config.ts';
import type { Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import type { Database } from './db/database.ts';
import { createLogger } from './log.ts';
import { createSesame } from './server.ts';
import { shutDown } from './http/graceful-shutdown.ts';
import type { Sesame } from './server.ts';

let config: Config;
try {
  config = loadConfig(readEnvironment());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const log = createLogger({ level: config.logLevel });
const started = performance.now();
let db: Database | undefined;
let sesame: Sesame;
try {
  db = await openDatabase(config.database, {
    migrate: true,
    log: (line) => log.debug({ engine: line }, 'schema engine'),
    poolSize: config.databasePool.size,
    connectTimeoutSeconds: config.databasePool.connectTimeoutSeconds,
    statementTimeoutSeconds: config.databasePool.statementTimeoutSeconds,
    // The pool drops the connection and opens another when asked: logged, never fatal.
    onPoolError: (error) => log.warn({ err: error }, 'database connection lost'),
  });
  if (db.appliedMigrations.length) log.info({ migrations: db.appliedMigrations }, 'applied database migrations');
  sesame = await createSesame({ config, db, log });
  const { url } = await sesame.listen();
  log.info(
    { url, issuer: config.issuer, database: db.description, ms: Math.round(performance.now() - started) },
    `Sésame is listening on ${url} — discovery: ${config.issuer}/.well-known/openid-configuration`,
  );
} catch (error) {
  log.fatal({ err: error }, `Sésame could not start: ${(error as Error).message}`);
  await db?.close().catch(() => {});
  process.exit(1);
}

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) {
    // A second Ctrl-C: the person at the terminal does not want to wait for the drain.
    if (signal === 'SIGINT') {
      log.warn({ signal }, 'stopped at once');
      process.exit(1);
    }
    return;
  }
  stopping = true;
  log.info({ signal }, 'signal received');
  const clean = await shutDown({
    lifecycle: sesame.lifecycle,
    ...config.shutdown,
    steps: [
      { name: 'closing connections and stopping jobs', run: () => sesame.close() },
      { name: 'closing the database', run: () => db!.close() },
    ],
    leftOver: () => sesame.openConnections(),
    log,
  });
  process.exit(clean ? 0 : 1);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
