// The embedded store: PostgreSQL compiled to WebAssembly (PGlite), with its files under DATA_DIR.
//
// PGlite is one in-process database that only its owner may open (a pid lock file says who).
// The owner (the server, or the admin CLI when no server runs) uses it in-process and also
// serves it on a Unix socket inside DATA_DIR (pglite-wire.ts); a second process — the CLI while
// the server runs — finds that socket and connects to it with the ordinary PostgreSQL driver.
import { PGlite } from '@electric-sql/pglite';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { PoolConfig } from 'pg';
import { servePGlite } from './pglite-wire.ts';
import { startFromPreparedDataDir } from './prepared-data-dir.ts';

export interface EmbeddedStore {
  /** How to reach the database with node-postgres. */
  readonly connection: PoolConfig;
  /** The database itself, in this process (owner only): the fastest and safest way to use it. */
  readonly pglite?: PGlite;
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
const PRIVATE_PORT = 5433;
const PRIVATE_SOCKET_NAME = `.s.PGSQL.${PRIVATE_PORT}`;
// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH = 107;
const ATTACH_WAIT_MS = 15_000;
// A server restarted right after its predecessor was killed finds the lock still held while the
// kernel tears the old process down: give a dying owner this long to go before refusing.
const OWNER_EXIT_WAIT_MS = 5_000;

/**
 * PostgreSQL's defaults size shared memory for a server of 100 connections with 128 MB of
 * buffers; PGlite is one backend, and the operating system caches the files under it anyway.
 * Every page of that memory, once touched, stays in the process's RSS. 8 MB of buffers measured
 * as fast as 16 MB on the benchmark's embedded flows, and 14 MiB lighter.
 */
const MEMORY_SETTINGS = ['-c', 'shared_buffers=8MB', '-c', 'max_connections=8'];

/**
 * Opens the embedded database in `dataDir`, or attaches to the process that already has it open
 * when `attach` is allowed (the CLI does that; the server refuses to share its files).
 */
export interface EmbeddedOptions {
  /** Connect to the process that has DATA_DIR open instead of refusing. */
  attach?: boolean;
  /**
   * Runs on the owner only, before anyone else can connect (migrations): PGlite has a single
   * backend, so advisory locks cannot keep two processes from migrating at once.
   */
  prepare?: (connection: PoolConfig) => Promise<void>;
  /** How long an attaching process waits for the owner's socket, or for a CLI owner to finish. */
  attachWaitMs?: number;
  /** How long a server waits for another owner to exit (it may have just been killed). */
  ownerExitWaitMs?: number;
  /** Start an empty DATA_DIR from the prepared database (prepared-data-dir.ts) when there is one. */
  fromPrepared?: boolean;
}

export async function openEmbeddedStore(
  dataDir: string,
  { attach = false, prepare, attachWaitMs = ATTACH_WAIT_MS, ownerExitWaitMs = OWNER_EXIT_WAIT_MS, fromPrepared = true }: EmbeddedOptions = {},
): Promise<EmbeddedStore> {
  const runDir = join(dataDir, 'run');
  const socketPath = join(runDir, SOCKET_NAME);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(`DATA_DIR path is too long for a Unix socket (${socketPath}); choose a shorter DATA_DIR`);
  }
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const connection: PoolConfig = { host: runDir, user: 'postgres', database: 'postgres' };

  // Another process may hold the lock while it is still starting (socket not up yet) or just
  // stopping (or killed, not yet gone): a CLI waits for its socket or for the lock to be free; a
  // server waits only a moment, for an owner on its way out.
  const deadline = Date.now() + (attach ? attachWaitMs : ownerExitWaitMs);
  // Attach only to a server: another CLI command will be done in a moment, wait for it instead.
  const role = attach ? 'cli' : 'server';
  let lock = acquireLock(join(dataDir, 'sesame.lock'), role);
  while (lock.heldBy !== undefined) {
    if (attach && lock.heldByRole === 'server' && (await accepts(socketPath))) return { connection, owner: false, close: async () => {} };
    // This very process cannot be on its way out.
    if (Date.now() > deadline || (!attach && lock.heldBy === process.pid)) throw new DataDirBusyError(dataDir, lock.heldBy);
    await new Promise((resolve) => setTimeout(resolve, 100));
    lock = acquireLock(join(dataDir, 'sesame.lock'), role);
  }

  let db: PGlite | undefined;
  try {
    const pgdata = join(dataDir, 'pgdata');
    if (fromPrepared) startFromPreparedDataDir(pgdata);
    db = await PGlite.create(pgdata, { startParams: [...PGlite.defaultStartParams, ...MEMORY_SETTINGS] });
    if (prepare) {
      // A private socket (another "port") that attaching processes do not look for.
      const privatePath = join(runDir, PRIVATE_SOCKET_NAME);
      rmSync(privatePath, { force: true });
      const setup = await servePGlite(db, privatePath);
      try {
        await prepare({ ...connection, port: PRIVATE_PORT });
      } finally {
        await setup.close();
        rmSync(privatePath, { force: true });
      }
    }
    rmSync(socketPath, { force: true });
    const server = await servePGlite(db, socketPath);
    const pglite = db;
    return {
      connection,
      pglite,
      owner: true,
      async close() {
        await server.close();
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
  heldByRole?: string;
  release(): void;
}

const heldHere = new Set<string>();

/**
 * A pid file taken with O_EXCL. A file left by a process that no longer runs is taken over; so is
 * one naming this very process but not taken by it (a container restarts with the same pid).
 */
function acquireLock(path: string, role: 'server' | 'cli'): Lock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${role}`);
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
      const [pidText = '', heldByRole] = readFileSync(path, 'utf8').trim().split(' ');
      const pid = Number.parseInt(pidText, 10);
      const alive = pid === process.pid ? heldHere.has(path) : Number.isInteger(pid) && pid > 0 && isRunning(pid);
      if (alive) return { heldBy: pid, heldByRole, release: () => {} };
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A zombie (killed, not yet reaped by its parent) still has its pid but runs no more. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (command) state …"; the command may itself hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true; // no /proc (not Linux): the signal's answer is all there is
  }
}
