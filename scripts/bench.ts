// npm run bench [-- --quick] [--duration S] [--rounds N] [--connections 16,64] [--only flow,…]
//                [--targets bare,postgres,embedded] [--people 8] [--sesame DIR]
// Sésame measured from outside against a bare oidc-provider of the same version (in-memory
// adapter, the same features), in one run: each server in its own process (Sésame on a
// throwaway PostgreSQL cluster with pg_stat_statements, and on a fresh embedded store), load from
// another process (autocannon, browserless people), rounds interleaved flow by flow and target by
// target. Prints Markdown tables: per flow req/s, latency, errors, ratio to the bare engine, SQL
// statements and server CPU per request; sign-ins against the argon2id limit of this machine;
// start-up and memory; the targets. `--sesame DIR` runs another checkout of Sésame (a git
// worktree of an earlier commit, with its node_modules) for a before/after table.
import argon2 from 'argon2';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { createJobMaker, FLOW_FACTORS, FLOWS, isSignInFlow } from './bench/flows.ts';
import { enrolFactors, hasFactors } from './bench/factors.ts';
import type { Factors } from './bench/factors.ts';
import type { FlowName } from './bench/flows.ts';
import type { LoadJob, LoadReply, LoadResult } from './bench/messages.ts';
import { startBenchDatabase } from './bench/postgres.ts';
import type { BenchDatabase } from './bench/postgres.ts';
import { cpuMs, forkProcess, ipcCaller, memoryMiB, messageWith, removeAtExit, stopProcess } from './bench/processes.ts';
import { describe, report } from './bench/report.ts';
import type { Machine, Measurement } from './bench/report.ts';
import { launchSesame, startBare, startSesame } from './bench/targets.ts';
import type { Target, TargetName } from './bench/targets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    targets: { type: 'string', default: 'bare,postgres,embedded' },
    people: { type: 'string', default: '8' },
    sesame: { type: 'string', default: resolve(here, '..') },
  },
});
const list = (text: string) => text.split(',').map((item) => item.trim()).filter(Boolean);
const duration = Number(args.duration ?? (args.quick ? 1 : 3));
const rounds = Number(args.rounds ?? (args.quick ? 1 : 2));
const connectionCounts = list(args.connections ?? (args.quick ? '16' : '16,64')).map(Number);
const flows = list(args.only ?? FLOWS.join(',')) as FlowName[];
const targetNames = list(args.targets) as TargetName[];
const people = Number(args.people);
const sesameDir = resolve(args.sesame);
/** Sign-ins are slower and noisier than single requests: they get twice as long. */
const signInSeconds = duration * 2;
for (const flow of flows) if (!FLOWS.includes(flow)) throw new Error(`--only: unknown flow ${flow} (one of ${FLOWS.join(', ')})`);
for (const name of targetNames) if (!['bare', 'postgres', 'embedded'].includes(name)) throw new Error(`--targets: unknown target ${name}`);
if (![duration, rounds, people, ...connectionCounts].every((n) => Number.isFinite(n) && n > 0)) throw new Error('--duration, --rounds, --people and --connections take positive numbers');

const began = performance.now();
const progress = (line: string) => process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
const PASSWORD = 'bench password that is long enough';
const workDir = mkdtempSync(join(tmpdir(), 'sesame-bench-'));
removeAtExit(workDir);
const freshDir = (name: string) => {
  const dir = join(workDir, `${name}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  return dir;
};

const worker = forkProcess(join(here, 'bench', 'load-worker.ts'), { execArgv: ['--disable-warning=ExperimentalWarning'] });
await messageWith(worker, 'ready');
const callWorker = ipcCaller<{ job: LoadJob }, LoadReply>(worker);
const load = async (job: LoadJob): Promise<LoadResult> => {
  const reply = await callWorker({ job });
  if (!('result' in reply)) throw new Error(reply.error);
  return reply.result;
};

// The people's password, hashed as Sésame hashes it (its defaults, src/config.ts).
const { argon2: cost } = loadConfig({});
const passwordHash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: cost.memoryCost, timeCost: cost.timeCost, parallelism: cost.parallelism });
const sesameHead = (() => {
  const git = (...gitArgs: string[]) => execFileSync('git', ['-C', sesameDir, ...gitArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return `${git('log', '-1', '--format=%h %s')}${git('status', '--porcelain', '--untracked-files=no') ? ', with uncommitted changes' : ''}`;
  } catch {
    return 'not a git checkout';
  }
})();

console.log(`## Sésame benchmark, ${new Date().toISOString()}\n`);
console.log(`\`${['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ')}\` · Sésame ${sesameDir} (${sesameHead}) · Node ${process.version} · ${availableParallelism()} cores`);
console.log(`${rounds} round(s), ${duration} s per flow and target, sign-ins ${signInSeconds} s with ${people} people, connections ${connectionCounts.join(', ')}; argon2id m=${cost.memoryCost} KiB t=${cost.timeCost} p=${cost.parallelism}\n`);

// Targets, each in its own process; the embedded store's start-up is timed on empty directories.
const machine: Machine = { startupMs: {}, memory: {} };
const targets: Target[] = [];
let database: BenchDatabase | undefined;
// Enough new people for each round's sign-ins: argon2id with the default cost allows fewer than
// 50 sign-ins per second per core.
const signInsPerRound = Math.ceil(50 * availableParallelism() * signInSeconds);
// Second factors exist from issue 10 on: a checkout before it (--sesame) runs password sign-ins only.
const signInFlows = flows.filter((flow) => isSignInFlow(flow) && (flow === 'sign-ins' || hasFactors(sesameDir)));
const peoplePerTarget = signInsPerRound * rounds * Math.max(1, signInFlows.length);
for (const name of targetNames) {
  progress(`starting ${name}…`);
  if (name === 'bare') {
    targets.push(await startBare(join(here, 'bench', 'bare-provider.ts')));
  } else if (name === 'postgres') {
    database = await startBenchDatabase();
    targets.push(await startSesame({ name, dir: sesameDir, databaseUrl: database.url, dataDir: freshDir('pg-data'), workDir, people: peoplePerTarget, password: PASSWORD, passwordHash }));
  } else {
    const samples = args.quick ? 1 : 3;
    machine.startupMs.embedded = [];
    for (let i = 1; i < samples; i++) {
      const { child, startupMs } = await launchSesame(sesameDir, { dataDir: freshDir('embedded-start') });
      machine.startupMs.embedded.push(startupMs);
      await stopProcess(child);
    }
    targets.push(await startSesame({ name, dir: sesameDir, dataDir: freshDir('embedded'), workDir, people: peoplePerTarget, password: PASSWORD, passwordHash }));
  }
  const target = targets.at(-1)!;
  (machine.startupMs[name] ??= []).push(target.startupMs);
  progress(`${name} answered after ${(target.startupMs / 1000).toFixed(2)} s, set up`);
}
for (const target of targets) machine.memory[target.name] = { idle: memoryMiB(target.pid).rss, peak: 0 };

// Each sign-in flow has its own people; those of the second-factor flows enrolled beforehand.
const peopleOf = new Map<string, { emails: string[]; factors?: Factors }>();
for (const target of targets.filter((t) => t.people)) {
  for (const flow of signInFlows) {
    const emails = target.people!.emails.splice(0, signInsPerRound * rounds);
    const kind = FLOW_FACTORS[flow as keyof typeof FLOW_FACTORS];
    if (kind) progress(`${target.name}: enrolling ${emails.length} people with ${kind === 'totp' ? 'an authenticator app' : 'a passkey'}…`);
    peopleOf.set(`${target.name}|${flow}`, { emails, factors: kind ? await enrolFactors(target.env!, emails, kind) : undefined });
  }
}

const jobs = new Map(targets.map((target) => [target.name, createJobMaker(target)]));
const measurements: Measurement[] = [];
const record = (measurement: Measurement) => {
  measurements.push(measurement);
  progress(describe(measurement));
};

/** Runs one job against one target, counting the server's CPU and, on PostgreSQL, statements. */
async function measure(round: number, flow: FlowName, target: Target, connections: number, job: LoadJob) {
  const db = target.name === 'postgres' ? database : undefined;
  await db?.resetStatements();
  const before = { cpu: cpuMs(target.pid), database: db?.cpuMs() };
  const result = await load(job);
  const cpu = cpuMs(target.pid) - before.cpu;
  // A backend that ended during the round takes its CPU time with it: never below zero.
  const databaseCpuMs = db ? Math.max(0, db.cpuMs() - before.database!) : undefined;
  // The audit trail is written after the answer: give it a moment before counting.
  if (db && isSignInFlow(flow)) await new Promise((resolve) => setTimeout(resolve, 300));
  const statements = db ? await db.statements() : undefined;
  record({ round, flow, target: target.name, connections, result, cpuMs: cpu, databaseCpuMs, statements });
}

/**
 * How many codes one code-redemption run needs to last about `duration`: the target's last rate
 * of redemption, else of refresh (the same work: tokens issued, an ID token signed), else a guess.
 * Two per connection at least.
 */
function codesFor(target: Target, connections: number): number {
  const last = (flow: FlowName) => measurements.findLast((m) => m.flow === flow && m.target === target.name && m.connections === connections);
  const previous = last('code') ?? last('refresh');
  const perSecond = previous ? previous.result.count / previous.result.seconds : target.name === 'bare' ? 500 : 50;
  return Math.min(20_000, Math.max(connections * 2, Math.round(perSecond * duration)));
}

for (let round = 1; round <= rounds; round++) {
  // The argon2id limit, measured once a round, is what every sign-in flow of the round is held against.
  let argon2Limit: LoadResult | undefined;
  for (const flow of flows) {
    if (isSignInFlow(flow)) {
      if (!signInFlows.includes(flow)) continue;
      argon2Limit ??= await load({ kind: 'argon2', hash: passwordHash, password: PASSWORD, duration: signInSeconds });
      record({ round, flow, target: 'argon2', connections: availableParallelism(), result: argon2Limit, cpuMs: NaN });
      for (const target of targets.filter((t) => t.people)) {
        const { emails: pool, factors } = peopleOf.get(`${target.name}|${flow}`)!;
        const emails = pool.splice(0, signInsPerRound);
        const job: LoadJob = { kind: 'sign-ins', issuer: target.issuer, clientId: target.app.id, clientSecret: target.app.secret, redirectUri: target.app.redirectUri, emails, password: PASSWORD, people, duration: signInSeconds, factors };
        await measure(round, flow, target, people, job);
      }
      continue;
    }
    for (const target of targets) {
      for (const connections of connectionCounts) {
        const job = await jobs.get(target.name)!(flow, connections, duration, codesFor(target, connections));
        await measure(round, flow, target, connections, job);
      }
    }
  }
}

for (const target of targets) machine.memory[target.name]!.peak = memoryMiB(target.pid).peak;
progress('stopping…');
await Promise.all(targets.map((target) => target.stop()));
await database?.close();
await stopProcess(worker);
console.log(report(measurements, machine));
process.exit(0);
