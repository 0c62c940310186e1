// Starts the real Sésame on an ephemeral port against a test store, built exactly as main.ts
// builds it, with its logs captured so tests can read them.
import { mkdtempSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.ts';
import type { Config, Env } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import type { Database } from '../../src/db/database.ts';
import { createLogger } from '../../src/log.ts';
import { createSesame } from '../../src/server.ts';
import type { Sesame } from '../../src/server.ts';
import type { TestStore } from './stores.ts';

export interface TestServer {
  issuer: string;
  config: Config;
  db: Database;
  sesame: Sesame;
  /** Every log line written so far. */
  logs: string[];
  stop(): Promise<void>;
}

export { freePort };

/** Fast argon2 for tests: the same algorithm, a fraction of the cost. */
export const TEST_ENV: Env = { NODE_ENV: 'test', ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', LOG_LEVEL: 'debug' };

/**
 * `issuerHost` names the server in ISSUER (it listens on 127.0.0.1 either way): `localhost` for
 * WebAuthn, whose relying-party id must be a domain, never an IP address.
 */
export async function startServer(store: TestStore, overrides: Env = {}, { issuerHost = '127.0.0.1' }: { issuerHost?: string } = {}): Promise<TestServer> {
  const port = await freePort();
  // The outbox (and anything else kept under DATA_DIR) goes to a temporary directory on PostgreSQL too.
  const dataDir = store.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sesame-data-'));
  const config = loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, ...store.env, PORT: String(port), HOST: '127.0.0.1', ISSUER: `http://${issuerHost}:${port}`, ...overrides });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger({ level: config.logLevel, destination });
  const db = await openDatabase(config.database, { migrate: true });
  let sesame: Sesame;
  try {
    sesame = await createSesame({ config, db, log });
    await sesame.listen();
  } catch (error) {
    // As main.ts does: a server that could not start lets go of its database.
    await db.close();
    throw error;
  }
  return {
    issuer: config.issuer,
    config,
    db,
    sesame,
    logs,
    async stop() {
      await sesame.close();
      await db.close();
    },
  };
}
