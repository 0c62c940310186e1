// A throwaway PostgreSQL cluster of our own (never the shared server): created with the machine's
// `initdb`, started with `pg_ctl` on a free port, stopped, frozen (SIGSTOP) and thawed by the tests
// and the benchmark that need to do that to a database. PostgreSQL refuses to run as root, so when
// this process is root the cluster runs as the `postgres` system user (or `nobody`).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';

export interface PostgresCluster {
  /** postgres://…/postgres on 127.0.0.1. */
  readonly url: string;
  readonly port: number;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** The postmaster's pid (stop/freeze act on it). */
  pid(): number;
  /** `pg_ctl stop -m fast`: connections are closed. */
  stop(): void;
  /** Starts it again on the same port and data. */
  start(): void;
  /** SIGSTOP every process of the cluster: connections stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT, after freeze(). */
  thaw(): void;
  /** Stops it and deletes its files. */
  destroy(): void;
}

export interface ClusterOptions {
  /** Extra `postgres -c` settings, e.g. { shared_preload_libraries: 'pg_stat_statements' }. */
  settings?: Record<string, string>;
}

/** The directory of the machine's PostgreSQL programs (Debian keeps them out of PATH). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : undefined;
}

function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith(`${name}:`));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error('running as root and found no unprivileged user to run PostgreSQL as');
}

export async function startPostgresCluster(options: ClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL server programs found under /usr/lib/postgresql');
  const user = unprivilegedUser();
  const root = mkdtempSync(join(tmpdir(), 'sesame-pg-'));
  chmodSync(root, 0o755);
  if (user) chownSync(root, user.uid, user.gid);
  const data = join(root, 'data');
  const run = (program: string, args: string[]) => {
    const result = spawnSync(join(bin, program), args, { ...(user ?? {}), encoding: 'utf8', cwd: root });
    if (result.status !== 0) throw new Error(`${program} failed: ${result.stderr || result.stdout}`);
    return result.stdout;
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: '127.0.0.1',
    unix_socket_directories: root,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    ...options.settings,
  };
  const postgresOptions = Object.entries(settings).map(([key, value]) => `-c ${key}=${value}`).join(' ');
  const start = () => run('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-o', postgresOptions, '-w', '-t', '60', 'start']);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pid = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // The postmaster and its children (backends, checkpointer…): a frozen database freezes them all.
  const processes = () => {
    const parent = pid();
    const children = execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    return [parent, ...children];
  };
  let stopped = false;
  return {
    url,
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    pid,
    stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      stopped = true;
    },
    start() {
      start();
      stopped = false;
    },
    freeze() {
      for (const id of processes()) process.kill(id, 'SIGSTOP');
    },
    thaw() {
      for (const id of processes()) process.kill(id, 'SIGCONT');
    },
    destroy() {
      if (!stopped) {
        try {
          for (const id of processes()) process.kill(id, 'SIGCONT');
        } catch {}
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } catch {}
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
