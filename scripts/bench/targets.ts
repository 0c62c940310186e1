// The servers the benchmark compares, each in its own process, set up the way an operator would:
// the bare oidc-provider (bare-provider.ts), and Sésame (its src/main.ts, from any checkout) on
// PostgreSQL or on the embedded store, with clients from the admin CLI, people from `users
// import`, and authorization codes minted through a real sign-in before the timed rounds.
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Browser } from '../../test/support/browser.ts';
import { beginSignIn, discover, redeem, signIn } from '../../test/support/rp.ts';
import { freePort } from '../../test/support/free-port.ts';
import { BARE_CLIENT } from './messages.ts';
import type { MintRequest, MintResponse } from './messages.ts';
import { forkProcess, ipcCaller, messageWith, startProcess, stopProcess, waitForAnswer } from './processes.ts';

export type TargetName = 'bare' | 'postgres' | 'embedded';

/** One verifier for every minted code: PKCE is checked all the same. */
export const CODE_VERIFIER = 'bench-code-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
const CODE_CHALLENGE = createHash('sha256').update(CODE_VERIFIER).digest('base64url');
/** What an app asks for in an ordinary sign-in (no offline_access: tokens end with the session). */
const MINT_SCOPE = 'openid profile email';
const REDIRECT_URI = 'https://app.example.test/cb';

export interface ClientCredentials {
  id: string;
  secret: string;
}

export interface Target {
  name: TargetName;
  issuer: string;
  pid: number;
  startupMs: number;
  endpoints: { discovery: string; jwks: string; token: string; introspection: string; userinfo: string; authorization: string };
  /** The client of the client-credentials and introspection flows. */
  service: ClientCredentials;
  /** The web app people sign in to (authorization code, refresh). */
  app: ClientCredentials & { redirectUri: string };
  codeVerifier: string;
  /** Codes of one person's grant, each redeemable once. */
  mintCodes(count: number): Promise<string[]>;
  /** Sésame only: people who never signed in yet, and their password. */
  people?: { emails: string[]; password: string };
  /** Sésame only: the environment it runs with (its database, for enrolling second factors). */
  env?: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export function basicAuth({ id, secret }: ClientCredentials): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function endpointsOf(issuer: string): Promise<Target['endpoints']> {
  const discovery = `${issuer}/.well-known/openid-configuration`;
  const document = (await (await fetch(discovery)).json()) as Record<string, string>;
  return {
    discovery,
    jwks: document.jwks_uri!,
    token: document.token_endpoint!,
    introspection: document.introspection_endpoint!,
    userinfo: document.userinfo_endpoint!,
    authorization: document.authorization_endpoint!,
  };
}

export async function startBare(workerPath: string): Promise<Target> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = forkProcess(workerPath, { env: { ...process.env, NODE_ENV: 'production', PORT: String(port), ISSUER: issuer }, execArgv: ['--disable-warning=ExperimentalWarning'] });
  await messageWith(child, 'listening');
  const startupMs = performance.now() - started;
  const mint = ipcCaller<Omit<MintRequest, 'id'>, MintResponse>(child);
  const client = { id: BARE_CLIENT.client_id, secret: BARE_CLIENT.client_secret };
  return {
    name: 'bare',
    issuer,
    pid: child.pid!,
    startupMs,
    endpoints: await endpointsOf(issuer),
    service: client,
    app: { ...client, redirectUri: BARE_CLIENT.redirect_uri },
    codeVerifier: CODE_VERIFIER,
    async mintCodes(count) {
      const answer = await mint({ count, scope: MINT_SCOPE, codeChallenge: CODE_CHALLENGE });
      return 'codes' in answer ? answer.codes : [];
    },
    stop: () => stopProcess(child),
  };
}

export interface SesameOptions {
  name: 'postgres' | 'embedded';
  /** The checkout to run (its src/main.ts and scripts/admin.ts). */
  dir: string;
  databaseUrl?: string;
  dataDir: string;
  /** Where the people's import file goes. */
  workDir: string;
  people: number;
  password: string;
  /** An argon2id hash of `password` with Sésame's parameters (so nobody's hash is redone). */
  passwordHash: string;
}

/** Node's arguments in the checkout's `npm start` (`node <flags> src/main.ts`): Sésame runs as people start it. */
function startArguments(dir: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const words = (scripts?.start ?? 'node src/main.ts').trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`${dir}: npm start does not run node directly (${scripts?.start})`);
  return words.slice(1);
}

/** Starts Sésame and resolves when discovery answers; `startupMs` from the spawn. */
export async function launchSesame(dir: string, store: { databaseUrl?: string; dataDir: string }): Promise<{ child: ChildProcess; issuer: string; env: NodeJS.ProcessEnv; startupMs: number }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: issuer,
    DATABASE_URL: store.databaseUrl ?? '',
    DATA_DIR: store.dataDir,
    // Codes are minted before the round that redeems them.
    AUTHORIZATION_CODE_TTL: '600',
    SHUTDOWN_DRAIN_SECONDS: '0',
    // Whatever a .env says: mail goes to the outbox.
    SENDGRID_API_KEY: '',
  };
  const started = performance.now();
  const child = startProcess(process.execPath, startArguments(dir), { cwd: dir, env, stdio: ['ignore', 2, 2] });
  const startupMs = await waitForAnswer(`${issuer}/.well-known/openid-configuration`, child, started);
  return { child, issuer, env, startupMs };
}

export async function startSesame(options: SesameOptions): Promise<Target> {
  const { child, issuer, env, startupMs } = await launchSesame(options.dir, options);
  const admin = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', 'scripts/admin.ts', ...args, '--json'], { cwd: options.dir, env, maxBuffer: 64 << 20 });
    return JSON.parse(stdout) as Record<string, string>;
  };
  const asClient = (created: Record<string, string>) => ({ id: created.client_id!, secret: created.client_secret! });
  const emails = Array.from({ length: options.people + 1 }, (_, i) => `person-${i}@bench.example.com`);
  const file = join(options.workDir, `${options.name}-people.jsonl`);
  writeFileSync(file, emails.map((email) => JSON.stringify({ email, email_verified: true, given_name: 'Bench', family_name: 'Person', password_hash: options.passwordHash })).join('\n'));
  const [service, app] = await Promise.all([
    admin('clients', 'add', '--name', 'Bench service', '--grant', 'client_credentials').then(asClient),
    admin('clients', 'add', '--name', 'Bench app', '--redirect-uri', REDIRECT_URI, '--grant', 'authorization_code', '--grant', 'refresh_token').then(asClient),
    admin('users', 'import', file),
  ]);

  // One person signs in through the pages once; their session then gets a code from each
  // authorization request, without a page, as an app's next sign-ins would.
  const minter = new Browser(issuer);
  const rp = await discover(issuer, app.id, app.secret);
  const flow = await beginSignIn(rp, REDIRECT_URI);
  await redeem(rp, flow, await signIn(minter, flow, emails.pop()!, options.password));
  const endpoints = await endpointsOf(issuer);
  const authorizationUrl = `${endpoints.authorization}?${new URLSearchParams({
    client_id: app.id,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: MINT_SCOPE,
    code_challenge: CODE_CHALLENGE,
    code_challenge_method: 'S256',
  })}`;
  const mintOne = async () => {
    const page = await minter.open(authorizationUrl);
    const code = page.stoppedAt ? new URL(page.stoppedAt).searchParams.get('code') : null;
    if (!code) throw new Error(`no code from ${page.url} (${page.status}) ${page.stoppedAt ?? page.body.slice(0, 300)}`);
    return code;
  };

  return {
    name: options.name,
    issuer,
    pid: child.pid!,
    startupMs,
    endpoints,
    service,
    app: { ...app, redirectUri: REDIRECT_URI },
    codeVerifier: CODE_VERIFIER,
    async mintCodes(count) {
      const codes: string[] = [];
      const lane = async () => {
        while (codes.length < count) codes.push(await mintOne());
      };
      await Promise.all(Array.from({ length: 8 }, lane));
      return codes.slice(0, count);
    },
    people: { emails, password: options.password },
    env,
    stop: () => stopProcess(child),
  };
}

