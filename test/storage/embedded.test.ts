// The embedded store: one owner process per DATA_DIR, others attach to it; data on disk.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import type { Database } from '../../src/db/database.ts';
import { DataDirBusyError, openEmbeddedStore } from '../../src/db/embedded.ts';
import type { EmbeddedStore } from '../../src/db/embedded.ts';
import { createTestStore } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

/** A pid no process has: one that just exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  expect(() => process.kill(pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  return pid!;
}

async function countUsers(connection: pg.PoolConfig): Promise<number> {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    return Number((await client.query('SELECT count(*) AS n FROM users')).rows[0].n);
  } finally {
    await client.end();
  }
}

describe('embedded store', () => {
  let store: TestStore;
  let dataDir: string;
  const opened: { close(): Promise<void> }[] = [];
  const track = <T extends Database | EmbeddedStore>(value: T): T => {
    opened.push(value);
    return value;
  };

  beforeEach(async () => {
    store = await createTestStore('pglite');
    dataDir = (store.source as { dataDir: string }).dataDir;
  });
  afterEach(async () => {
    for (const value of opened.splice(0).reverse()) await value.close().catch(() => {});
    await store.dispose();
  });

  it('refuses a second opening of a DATA_DIR in use, unless asked to attach', async () => {
    const owner = track(await openEmbeddedStore(dataDir));
    expect(owner.owner).toBe(true);
    expect(readFileSync(join(dataDir, 'sesame.lock'), 'utf8')).toBe(`${process.pid} server`);

    const second = openEmbeddedStore(dataDir);
    await expect(second).rejects.toBeInstanceOf(DataDirBusyError);
    await expect(second).rejects.toThrow(`${dataDir} is already in use by another Sésame process (pid ${process.pid})`);

    const attached = track(await openEmbeddedStore(dataDir, { attach: true }));
    expect(attached.owner).toBe(false);
  });

  it('gives an attached connection the owner’s data, and keeps the owner open when it leaves', async () => {
    const owner = track(await openDatabase(store.source));
    await owner.prisma.user.create({ data: { id: 'u-1', email: 'Owner@Example.com', emailKey: 'owner@example.com' } });

    const attached = await openDatabase(store.source, { attach: true });
    expect(await attached.prisma.user.findUnique({ where: { id: 'u-1' } })).toMatchObject({ email: 'Owner@Example.com' });
    await attached.prisma.user.create({ data: { id: 'u-2', email: 'guest@example.com', emailKey: 'guest@example.com' } });
    await attached.close();

    expect(await owner.prisma.user.count()).toBe(2);
    expect(existsSync(join(dataDir, 'sesame.lock'))).toBe(true);
  });

  it('keeps attached clients’ statements and transactions apart from the owner’s', async () => {
    const owner = track(await openDatabase(store.source));
    const connection = { host: join(dataDir, 'run'), user: 'postgres', database: 'postgres' };
    const clients = await Promise.all([0, 1, 2, 3].map(async () => {
      const client = new pg.Client(connection);
      await client.connect();
      return client;
    }));
    try {
      // Extended-protocol statements from four connections and the owner, all at once: every
      // answer must belong to its own question.
      const remote = clients.map(async (client, i) => {
        for (let k = 0; k < 60; k++) {
          const { rows } = await client.query('SELECT $1::int * 1000 + $2::int AS n', [i, k]);
          if (rows[0].n !== i * 1000 + k) return false;
        }
        return true;
      });
      const local = (async () => {
        for (let k = 0; k < 60; k++) {
          const [row] = await owner.prisma.$queryRaw<{ n: number }[]>`SELECT ${k}::int + 500000 AS n`;
          if (row!.n !== 500000 + k) return false;
        }
        return true;
      })();
      expect(await Promise.all([...remote, local])).toEqual([true, true, true, true, true]);

      // A transaction left open by an attached client keeps the owner out until it ends, and its
      // rollback takes nothing of the owner's with it.
      const [tx] = clients;
      await tx!.query('BEGIN');
      await tx!.query("INSERT INTO users (id, email, email_key, updated_at) VALUES ('rolled-back', 'r@example.com', 'r@example.com', now())");
      let ownerDone = false;
      const ownerWrite = owner.prisma.user
        .create({ data: { id: 'kept', email: 'k@example.com', emailKey: 'k@example.com' } })
        .then(() => (ownerDone = true));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(ownerDone).toBe(false);
      await tx!.query('ROLLBACK');
      await ownerWrite;
      expect((await owner.prisma.user.findMany()).map((user) => user.id)).toEqual(['kept']);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it('refuses a DATA_DIR held by another live process, and will not attach until its socket answers', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    try {
      writeFileSync(join(dataDir, 'sesame.lock'), `${other.pid} server`);
      await expect(openEmbeddedStore(dataDir, { ownerExitWaitMs: 300 })).rejects.toBeInstanceOf(DataDirBusyError);
      await expect(openEmbeddedStore(dataDir, { attach: true, attachWaitMs: 300 })).rejects.toBeInstanceOf(DataDirBusyError);
      expect(readFileSync(join(dataDir, 'sesame.lock'), 'utf8')).toBe(`${other.pid} server`);
    } finally {
      other.kill();
    }
  });

  it('makes a CLI command wait for another one to finish instead of attaching to it', async () => {
    const first = await openEmbeddedStore(dataDir, { attach: true });
    expect(first.owner).toBe(true);
    await expect(openEmbeddedStore(dataDir, { attach: true, attachWaitMs: 300 })).rejects.toBeInstanceOf(DataDirBusyError);
    const waiting = openEmbeddedStore(dataDir, { attach: true, attachWaitMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.close();
    const second = track(await waiting);
    expect(second.owner).toBe(true);
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    writeFileSync(join(dataDir, 'sesame.lock'), String(deadPid()));
    const owner = track(await openEmbeddedStore(dataDir));
    expect(owner.owner).toBe(true);
    expect(readFileSync(join(dataDir, 'sesame.lock'), 'utf8')).toBe(`${process.pid} server`);
    expect(await countUsers(owner.connection)).toBe(0);
  });

  it('takes over a lock that names this process but was not taken by it (a restarted container)', async () => {
    writeFileSync(join(dataDir, 'sesame.lock'), String(process.pid));
    const owner = track(await openEmbeddedStore(dataDir));
    expect(owner.owner).toBe(true);
  });

  it('takes over a lock file that holds no pid', async () => {
    writeFileSync(join(dataDir, 'sesame.lock'), '');
    const owner = track(await openEmbeddedStore(dataDir));
    expect(owner.owner).toBe(true);
  });

  it('keeps its data across close and reopen, and frees the DATA_DIR on close', async () => {
    const first = await openDatabase(store.source);
    await first.prisma.user.create({ data: { id: 'u-1', email: 'kept@example.com', emailKey: 'kept@example.com' } });
    await first.close();
    expect(existsSync(join(dataDir, 'sesame.lock'))).toBe(false);

    const reopened = track(await openDatabase(store.source));
    expect(await reopened.prisma.user.findUnique({ where: { id: 'u-1' } })).toMatchObject({ email: 'kept@example.com' });
  });

  it('refuses a DATA_DIR whose socket path would be too long', async () => {
    await expect(openEmbeddedStore(join(dataDir, 'x'.repeat(100)))).rejects.toThrow(/too long for a Unix socket/);
  });
});
