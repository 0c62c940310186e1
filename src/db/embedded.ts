// The embedded store: PostgreSQL compiled to WebAssembly (PGlite), with its files under DATA_DIR.
//
// PGlite is one in-process database that only its owner may open. The owner (the server, or the
// admin CLI when no server runs) serves it on a Unix socket inside DATA_DIR, and everyone —
// the owner included — talks to it through that socket with the ordinary PostgreSQL driver.
// Going through one socket queue keeps each transaction whole: PGlite has a single backend, and
// two in-process users could otherwise interleave statements inside each other's transactions.
// A second process (the CLI while the server runs) finds the owner's socket and connects to it.
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolConfig } from 'pg';

export interface EmbeddedStore {
  /** How to reach the database with node-postgres. */
  readonly connection: PoolConfig;
  /** True when this process opened the files; false when it attached to a running owner. */
  readonly owner: boolean;
  close(): Promise<void>;
}

export class DataDirBusyError extends Error {
  constructor(dataDir: string, pid: number) {
    super(`${dataDir} is already in use by another Sésame process (pid ${pid}); stop it first or set another DATA_DIR`);
    this.name = 'DataDirBusyError';
  }
}

const SOCKET_NAME = '.s.PGSQL.5432';
// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH = 107;

/**
 * Opens the embedded database in `dataDir`, or attaches to the process that already has it open
 * when `attach` is allowed (the CLI does that; the server refuses to share its files).
 */
export async function openEmbeddedStore(dataDir: string, { attach = false } = {}): Promise<EmbeddedStore> {
  const runDir = join(dataDir, 'run');
  const socketPath = join(runDir, SOCKET_NAME);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(`DATA_DIR path is too long for a Unix socket (${socketPath}); choose a shorter DATA_DIR`);
  }
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const connection: PoolConfig = { host: runDir, user: 'postgres', database: 'postgres' };

  const lock = acquireLock(join(dataDir, 'sesame.lock'));
  if (lock.heldBy !== undefined) {
    if (!attach) throw new DataDirBusyError(dataDir, lock.heldBy);
    return { connection, owner: false, close: async () => {} };
  }

  let db: PGlite | undefined;
  try {
    db = await PGlite.create(join(dataDir, 'pgdata'));
    rmSync(socketPath, { force: true });
    const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 64 });
    await server.start();
    const pglite = db;
    return {
      connection,
      owner: true,
      async close() {
        await server.stop();
        await pglite.close();
        rmSync(socketPath, { force: true });
        lock.release();
      },
    };
  } catch (error) {
    await db?.close().catch(() => {});
    lock.release();
    throw error;
  }
}

interface Lock {
  heldBy?: number;
  release(): void;
}

const heldHere = new Set<string>();

/**
 * A pid file taken with O_EXCL. A file left by a process that no longer runs is taken over; so is
 * one naming this very process but not taken by it (a container restarts with the same pid).
 */
function acquireLock(path: string): Lock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(path);
      return {
        release() {
          heldHere.delete(path);
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      const alive = pid === process.pid ? heldHere.has(path) : Number.isInteger(pid) && isRunning(pid);
      if (alive) return { heldBy: pid, release: () => {} };
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
