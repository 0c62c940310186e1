// node scripts/import-bench.ts [-- --rows 10000] [--database-url postgres://…/postgres]
// Times `users import` of generated JSON lines (bcrypt hashes, names, roles, external ids, one in
// ten with a Google subject) through the real admin CLI: the first run (creates), a second run
// (unchanged) and a dry run. On a fresh embedded store, and on a throwaway PostgreSQL database
// created on the server of --database-url (or TEST_DATABASE_URL), dropped afterwards. Each time
// includes the CLI's start (printed first, as "a command doing nothing").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import pg from 'pg';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, 'database-url': { type: 'string' } } });
const rows = Number(args.rows);
const serverUrl = args['database-url'] ?? process.env.TEST_DATABASE_URL;
const admin = join(import.meta.dirname, 'admin.ts');
const dir = mkdtempSync(join(tmpdir(), 'sesame-import-bench-'));

const hash = bcrypt.hashSync('an imported password', 10);
const file = join(dir, 'users.jsonl');
const lines = Array.from({ length: rows }, (_, i) =>
  JSON.stringify({
    email: `person${i}@bench.example`,
    email_verified: i % 2 === 0,
    name: `Person Number${i}`,
    roles: i % 50 === 0 ? ['admin'] : ['member'],
    password_hash: hash,
    external_id: `legacy-${i}`,
    ...(i % 10 === 0 ? { google_sub: `1${String(i).padStart(20, '0')}` } : {}),
    created_at: new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString(),
  }),
);
writeFileSync(file, `${lines.join('\n')}\n`);

function cli(env: Record<string, string>, args: string[]) {
  return spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', admin, ...args], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? dir, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
}

function timed(label: string, env: Record<string, string>, extra: string[]) {
  const started = performance.now();
  const run = cli(env, ['users', 'import', file, '--json', ...extra]);
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${label} failed (${run.status}): ${run.stderr}`);
  const { created, updated, unchanged, refused } = JSON.parse(run.stdout);
  console.log(`${label.padEnd(34)} ${seconds.toFixed(1).padStart(6)} s  ${Math.round(rows / seconds).toString().padStart(5)} rows/s  created ${created}, updated ${updated}, unchanged ${unchanged}, refused ${refused}`);
}

function suite(store: string, env: Record<string, string>) {
  // The store is created and migrated first; a command that does nothing gives the fixed cost.
  cli(env, ['users', 'list', '--json']);
  const started = performance.now();
  cli(env, ['users', 'list', '--role', 'nobody', '--json']);
  console.log(`${`${store}: a command doing nothing`.padEnd(34)} ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`);
  timed(`${store}: first import`, env, []);
  timed(`${store}: same file again`, env, []);
  timed(`${store}: --dry-run`, env, ['--dry-run']);
}

console.log(`${rows} JSON lines`);
try {
  suite('embedded (PGlite)', { DATA_DIR: join(dir, 'data') });
  if (serverUrl) {
    const name = `sesame_import_bench_${randomBytes(4).toString('hex')}`;
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    try {
      suite('PostgreSQL', { DATABASE_URL: url.href });
    } finally {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
