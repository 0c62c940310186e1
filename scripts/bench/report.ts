// The benchmark's figures as Markdown tables, ready to paste into a note: one table per flow
// (rounds folded into their median, ratios taken within each round), then start-up and memory,
// then the issue's targets with a ✓ or a ✗. Besides the ratio of requests per second, the ratio
// of CPU time per request (the server's and its database's): on a machine shared with other
// work, throughput moves with the neighbours, CPU per request much less.
import { FLOW_TITLES, FLOWS, isSignInFlow, TOKEN_FLOWS } from './flows.ts';
import type { FlowName } from './flows.ts';
import type { LoadResult } from './messages.ts';

export interface Measurement {
  round: number;
  flow: FlowName;
  /** bare, postgres, embedded, or argon2 (the limit sign-ins are held against). */
  target: string;
  /** Connections, or people signing in at once. */
  connections: number;
  result: LoadResult;
  cpuMs: number;
  databaseCpuMs?: number;
  statements?: number;
}

export interface Machine {
  startupMs: Record<string, number[]>;
  memory: Record<string, { idle: number; peak: number }>;
}

const LABELS: Record<string, string> = { bare: 'bare oidc-provider', postgres: 'Sésame, PostgreSQL', embedded: 'Sésame, embedded', argon2: 'argon2id limit, all cores' };

const median = (values: number[]) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const rate = (m: Measurement) => m.result.count / m.result.seconds;
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

interface Summary {
  target: string;
  connections: number;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  /** To the bare engine (or, for sign-ins, to the argon2 limit), median of the rounds' ratios. */
  ratio: number;
  statementsPer: number;
  cpuPer: number;
  databaseCpuPer: number;
  /** The bare engine's CPU per request over this target's (its database's included). */
  cpuRatio: number;
}

function summarize(measurements: Measurement[], flow: FlowName): Summary[] {
  const ofFlow = measurements.filter((m) => m.flow === flow);
  const reference = isSignInFlow(flow) ? 'argon2' : 'bare';
  const groups = new Map<string, Measurement[]>();
  for (const m of ofFlow) {
    const key = `${m.target}|${m.target === 'argon2' ? 0 : m.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const summaries = [...groups.values()].map((group) => {
    const { target, connections } = group[0]!;
    const ratios = group.map((m) => {
      const base = ofFlow.find((other) => other.round === m.round && other.target === reference && (reference === 'argon2' || other.connections === m.connections));
      return base ? rate(m) / rate(base) : NaN;
    });
    const count = sum(group.map((m) => m.result.count));
    const counted = group.filter((m) => m.statements !== undefined);
    return {
      target,
      connections,
      rate: median(group.map(rate)),
      p50: median(group.map((m) => m.result.p50)),
      p99: median(group.map((m) => m.result.p99)),
      errors: sum(group.map((m) => m.result.errors)),
      ratio: target === reference ? NaN : median(ratios),
      statementsPer: counted.length ? sum(counted.map((m) => m.statements!)) / sum(counted.map((m) => m.result.count)) : NaN,
      cpuPer: sum(group.map((m) => m.cpuMs)) / count,
      databaseCpuPer: group.some((m) => m.databaseCpuMs !== undefined) ? sum(group.map((m) => m.databaseCpuMs ?? 0)) / count : NaN,
      cpuRatio: NaN,
    };
  });
  for (const s of summaries) {
    const bare = summaries.find((other) => other.target === 'bare' && other.connections === s.connections);
    if (bare && s !== bare) s.cpuRatio = bare.cpuPer / (s.cpuPer + (Number.isFinite(s.databaseCpuPer) ? s.databaseCpuPer : 0));
  }
  return summaries;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function flowTable(flow: FlowName, summaries: Summary[]): string {
  const signIns = isSignInFlow(flow);
  const header = signIns
    ? ['target', 'people', 'sign-ins/s', 'p50 ms', 'p99 ms', 'errors', '× argon2 limit', 'SQL/sign-in', 'server CPU ms/sign-in', 'PostgreSQL CPU ms/sign-in']
    : ['target', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'errors', '× bare', 'SQL/req', 'server CPU ms/req', 'PostgreSQL CPU ms/req', '× bare by CPU'];
  const rows = summaries.map((s) => [
    LABELS[s.target] ?? s.target,
    s.target === 'argon2' ? '–' : String(s.connections),
    fixed(s.rate, signIns ? 1 : 0),
    fixed(s.p50, 1),
    fixed(s.p99, 1),
    String(s.errors),
    fixed(s.ratio, 2),
    fixed(s.statementsPer, 1),
    fixed(s.cpuPer, 2),
    fixed(s.databaseCpuPer, 2),
    ...(signIns ? [] : [fixed(s.cpuRatio, 2)]),
  ]);
  return `### ${FLOW_TITLES[flow]}\n\n${table(header, rows)}`;
}

function check(ok: boolean | undefined): string {
  return ok === undefined ? '–' : ok ? '✓' : '✗';
}

function targetsTable(measurements: Measurement[], machine: Machine): string {
  const rows: string[][] = [];
  const summaries = new Map(FLOWS.map((flow) => [flow, summarize(measurements, flow)]));
  const ratioRow = (flow: FlowName, target: string, goal: number) => {
    const found = summaries.get(flow)!.filter((s) => s.target === target);
    if (!found.length) return;
    const worst = Math.min(...found.map((s) => s.ratio));
    rows.push([`${FLOW_TITLES[flow].split(' (')[0]}, ${LABELS[target]}`, found.map((s) => `${fixed(s.ratio, 2)}× (${s.connections})`).join(' · '), `≥ ${goal}× bare`, check(Number.isFinite(worst) ? worst >= goal : undefined)]);
  };
  for (const flow of TOKEN_FLOWS) ratioRow(flow, 'postgres', 0.5);
  for (const flow of ['discovery', 'jwks'] as const) for (const target of ['postgres', 'embedded']) ratioRow(flow, target, 0.9);
  for (const s of summaries.get('sign-ins')!.filter((s) => s.target !== 'argon2')) {
    rows.push([`Sign-ins, ${LABELS[s.target]}`, `${fixed(s.ratio, 2)}× (${fixed(s.rate, 1)}/s)`, '≥ 0.6× argon2 limit', check(Number.isFinite(s.ratio) ? s.ratio >= 0.6 : undefined)]);
    if (Number.isFinite(s.statementsPer)) rows.push([`SQL per sign-in, ${LABELS[s.target]}`, fixed(s.statementsPer, 1), '≤ 15', check(s.statementsPer <= 15)]);
  }
  const embeddedStart = median(machine.startupMs.embedded ?? []);
  if (Number.isFinite(embeddedStart)) rows.push(['Start-up, empty embedded data directory', `${fixed(embeddedStart / 1000, 2)} s`, '< 3 s', check(embeddedStart < 3000)]);
  const idleGoals: [string, number][] = [['embedded', 250], ['postgres', 200]];
  for (const [target, goal] of idleGoals) {
    const memory = machine.memory[target];
    if (memory) rows.push([`RSS idle, ${LABELS[target]}`, `${fixed(memory.idle, 0)} MiB`, `< ${goal} MiB`, check(memory.idle < goal)]);
  }
  const most = Math.max(...measurements.map((m) => (isSignInFlow(m.flow) ? 0 : m.connections)));
  const atMost = measurements.filter((m) => !isSignInFlow(m.flow) && m.connections === most && m.target !== 'bare');
  if (atMost.length) rows.push([`Errors at ${most} connections, Sésame`, String(sum(atMost.map((m) => m.result.errors))), '0', check(sum(atMost.map((m) => m.result.errors)) === 0)]);
  return `### The issue's targets\n\n${table(['target', 'measured', 'goal', ''], rows)}`;
}

function machineTable(machine: Machine): string {
  const targets = Object.keys(machine.memory);
  const rows = targets.map((target) => {
    const starts = machine.startupMs[target] ?? [];
    const startup = starts.length ? `${fixed(median(starts) / 1000, 2)} s${starts.length > 1 ? ` (median of ${starts.length}: ${starts.map((ms) => fixed(ms / 1000, 2)).join(', ')})` : ''}` : '–';
    return [LABELS[target] ?? target, startup, fixed(machine.memory[target]!.idle, 0), fixed(machine.memory[target]!.peak, 0)];
  });
  return `### Start-up (to the first discovery answer, empty database) and memory\n\n${table(['target', 'start-up', 'RSS idle MiB', 'RSS peak MiB'], rows)}`;
}

export function report(measurements: Measurement[], machine: Machine): string {
  const flows = FLOWS.filter((flow) => measurements.some((m) => m.flow === flow));
  return [...flows.map((flow) => flowTable(flow, summarize(measurements, flow))), machineTable(machine), targetsTable(measurements, machine)].join('\n\n');
}

export function describe(m: Measurement): string {
  const errors = m.result.errors ? `, ${m.result.errors} errors (first: ${m.result.firstError ?? '?'})` : '';
  return `round ${m.round} · ${m.flow} · ${m.target}${m.target === 'argon2' ? '' : ` × ${m.connections}`}: ${fixed(rate(m), 1)}/s, p50 ${fixed(m.result.p50, 1)} ms, p99 ${fixed(m.result.p99, 1)} ms${errors}`;
}
