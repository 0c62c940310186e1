// Starting the server on the embedded store, as an operator does: a first start on an empty
// DATA_DIR, a restart right after `kill -9`, and a second server on a DATA_DIR in use.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { readMigrationsList } from '../../src/db/migrations.ts';
import { freePort } from '../support/server.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/.well-known/openid-configuration`)).ok;
  } catch {
    return false;
  }
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('starting on the embedded store', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const cleanups: (() => void)[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sesame-start-'));
    dirs.push(dir);
    return join(dir, 'data');
  };
  const start = async (env: Record<string, string>) => {
    const server = await startServerProcess(env);
    servers.push(server);
    return server;
  };

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.kill();
    for (const cleanup of cleanups.splice(0)) cleanup();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('starts an empty DATA_DIR from the prepared database, with every migration already applied', async () => {
    const DATA_DIR = dataDir();
    const server = await start({ DATA_DIR, SHUTDOWN_DRAIN_SECONDS: '0' });
    expect(await answers(server.url)).toBe(true);
    // Nothing left to migrate at start: the migrations came with the prepared database.
    expect(server.logs.join('\n')).not.toContain('applied database migrations');

    server.child.kill('SIGTERM');
    expect(await server.exited).toMatchObject({ code: 0 });
    const db = await openDatabase({ dataDir: DATA_DIR });
    try {
      const rows = await db.prisma.$queryRaw<{ name: string }[]>`
        SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY 1`;
      expect(rows.map((row) => row.name)).toEqual(readMigrationsList().migrationDirectories.map((dir) => dir.path));
    } finally {
      await db.close();
    }
  });

  it('serves again when restarted right after kill -9, while the killed process is not yet reaped', async () => {
    const DATA_DIR = dataDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // A parent that never reaps its child (a container's init that does not), so the killed
    // server stays a zombie that still holds its pid.
    const parent = spawn('sh', ['-c', `"${process.execPath}" --disable-warning=ExperimentalWarning "${MAIN}" & echo $!; exec sleep 300`], {
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATA_DIR, HOST: '127.0.0.1', PORT: String(port), ISSUER: url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => parent.kill('SIGKILL'));
    const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (chunk) => resolve(Number.parseInt(String(chunk), 10))));
    await until(() => answers(url), 'the first server');

    process.kill(pid, 'SIGKILL');
    await until(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'), 'the killed server to be a zombie');
    const restarted = await start({ DATA_DIR });
    expect(await answers(restarted.url)).toBe(true);
    expect(readFileSync(join(DATA_DIR, 'sesame.lock'), 'utf8')).toBe(`${restarted.child.pid} server`);
  });

  it('refuses a second server on a DATA_DIR whose owner lives, and leaves the owner serving', async () => {
    const DATA_DIR = dataDir();
    const owner = await start({ DATA_DIR });
    const second = start({ DATA_DIR });
    await expect(second).rejects.toThrow(`is already in use by another Sésame process (pid ${owner.child.pid})`);
    expect(await answers(owner.url)).toBe(true);
  });
});
