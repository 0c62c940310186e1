// npm run bench [-- --duration 10 --connections 16]
// Measures Sésame from outside and prints the figures: start-up time on an empty embedded
// database, protocol endpoint throughput (server in its own process, load from this one), the
// cost and SQL statement count of one interactive sign-in, and the server's memory.
// DATABASE_URL set: the throughput runs on that PostgreSQL; otherwise on a fresh embedded store.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, readEnvironment } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { createLogger } from '../src/log.ts';
import { createSesame } from '../src/server.ts';
import { Browser } from '../test/support/browser.ts';
import { beginSignIn, discover, redeem, signIn } from '../test/support/rp.ts';
import { freePort } from '../test/support/server.ts';

const { values: args } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '16' } },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const env = readEnvironment();
const databaseUrl = env.DATABASE_URL;
const PASSWORD = 'bench password that is long enough';

function startServerProcess(extraEnv: Record<string, string>): { child: ChildProcess; ready: Promise<number> } {
  const started = performance.now();
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const issuer = extraEnv.ISSUER!;
  const ready = (async () => {
    for (;;) {
      try {
        const response = await fetch(`${issuer}/.well-known/openid-configuration`);
        if (response.ok) return performance.now() - started;
      } catch {}
      if (child.exitCode !== null) throw new Error('server exited during start-up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return { child, ready };
}

async function stopProcess(child: ChildProcess) {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function load(title: string, options: autocannon.Options) {
  const result = await autocannon({ duration, connections, ...options });
  const errors = result.non2xx + result.errors;
  console.log(
    `${title.padEnd(34)} ${Math.round(result.requests.average).toString().padStart(6)} req/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms${errors ? `   (${errors} errors!)` : ''}`,
  );
}

console.log(`Sésame benchmark — ${new Date().toISOString()} — Node ${process.version}, ${duration}s per run, ${connections} connections\n`);

// 1. Start-up on an empty embedded database, then on the same, now existing, data.
{
  const dataDir = mkdtempSync(join(tmpdir(), 'sesame-bench-'));
  for (const label of ['empty embedded database', 'existing embedded database']) {
    const port = await freePort();
    const { child, ready } = startServerProcess({ DATA_DIR: dataDir, PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, DATABASE_URL: '' });
    console.log(`start-up to first discovery answer, ${label}: ${Math.round(await ready)} ms`);
    await stopProcess(child);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

// 2. Protocol endpoints, server in its own process.
{
  const dataDir = mkdtempSync(join(tmpdir(), 'sesame-bench-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const storeEnv: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir, DATABASE_URL: '' };
  const { child, ready } = startServerProcess({ ...storeEnv, PORT: String(port), ISSUER: issuer });
  await ready;
  console.log(`\nthroughput on ${databaseUrl ? 'PostgreSQL' : 'the embedded database'} (server pid ${child.pid}):`);

  const admin = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'scripts/admin.ts', 'clients', 'add', '--name', 'bench', '--grant', 'client_credentials', '--json'], {
    env: { ...process.env, ...storeEnv, ISSUER: issuer },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  admin.stdout!.on('data', (chunk) => (out += chunk));
  await new Promise((resolve) => admin.once('exit', resolve));
  const client = JSON.parse(out) as { client_id: string; client_secret: string };
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;
  const tokenResponse = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const { access_token: accessToken } = (await tokenResponse.json()) as { access_token: string };
  const rssIdle = rssOf(child.pid!);

  await load('GET discovery', { url: `${issuer}/.well-known/openid-configuration` });
  await load('GET /jwks', { url: `${issuer}/jwks` });
  await load('POST /token client_credentials', {
    url: `${issuer}/token`,
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  await load('POST /token/introspection', {
    url: `${issuer}/token/introspection`,
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${accessToken}`,
  });
  console.log(`server memory: ${Math.round(rssIdle)} MiB RSS idle, ${Math.round(rssOf(child.pid!))} MiB after the load`);
  await stopProcess(child);
  rmSync(dataDir, { recursive: true, force: true });
}

// 3. One interactive sign-in (login page, argon2id with the configured parameters, consent,
//    code redemption), in-process so that every SQL statement can be counted.
{
  const dataDir = mkdtempSync(join(tmpdir(), 'sesame-bench-'));
  const port = await freePort();
  const config = loadConfig({ ...env, ...(databaseUrl ? {} : { DATABASE_URL: '', DATA_DIR: dataDir }), PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn' });
  let statements = 0;
  let audited = 0;
  const db = await openDatabase(config.database, {
    migrate: true,
    onQuery: ({ query }) => {
      statements++;
      if (query.includes('"audit_events"')) audited++;
    },
  });
  const sesame = await createSesame({ config, db, log: createLogger({ level: 'warn' }) });
  await sesame.listen(port, '127.0.0.1');
  const rounds = 20;
  // One person per round, so that the app's first sign-in shows its consent page every round.
  const people: string[] = [];
  for (let i = 0; i < rounds; i++) {
    people.push(`bench-${i}-${Date.now()}@example.com`);
    await sesame.users.create({ email: people[i]!, password: PASSWORD, emailVerified: true, givenName: 'Bench', familyName: 'Mark' });
  }
  console.log(`\ninteractive sign-in in a new browser (argon2id m=${config.argon2.memoryCost} KiB t=${config.argon2.timeCost}), ${databaseUrl ? 'PostgreSQL' : 'embedded'}:`);
  const app = async (firstParty: boolean) => {
    const { client, secret } = await sesame.clients.add({
      client_name: firstParty ? 'Bench first-party app' : 'Bench app',
      redirect_uris: ['https://app.example.test/cb'],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      public: false,
      first_party: firstParty,
    });
    return discover(config.issuer, client.clientId, secret);
  };
  const thirdParty = await app(false);
  const cases = [
    { title: 'app with a consent page, first sign-in to it', rp: thirdParty },
    { title: 'the same app again, consent remembered', rp: thirdParty },
    { title: 'first-party app, no consent page', rp: await app(true) },
  ];
  for (const { title, rp } of cases) {
    let total = 0;
    let counted = 0;
    let trail = 0;
    for (const email of people) {
      const flow = await beginSignIn(rp, 'https://app.example.test/cb');
      const before = { statements, audited };
      const started = performance.now();
      await redeem(rp, flow, await signIn(new Browser(config.issuer), flow, email, PASSWORD));
      total += performance.now() - started;
      // The audit trail is written without being awaited: count its rows with their sign-in.
      await sesame.audit.settled();
      counted += statements - before.statements;
      trail += audited - before.audited;
    }
    console.log(
      `${title}: ${(total / rounds).toFixed(1)} ms and ${(counted / rounds).toFixed(1)} SQL statements per sign-in (${(trail / rounds).toFixed(1)} of them the audit trail), code redeemed (mean of ${rounds})`,
    );
  }
  await sesame.close();
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
}
