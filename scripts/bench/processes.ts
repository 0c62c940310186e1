// The benchmark's child processes and what it reads about them from /proc: CPU time and memory.
// Everything started here is tracked so that it is stopped and deleted however the run ends
// (done, failed, Ctrl-C).
import { execFileSync, fork, spawn } from 'node:child_process';
import type { ChildProcess, ForkOptions, SpawnOptions } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const live = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function startProcess(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options));
}

export function forkProcess(module: string, options: ForkOptions): ChildProcess {
  return track(fork(module, [], options));
}

/** Runs `cleanup` (synchronous) when the run ends, whichever way. */
export function atExit(cleanup: () => void) {
  cleanups.push(cleanup);
}

export function removeAtExit(path: string) {
  atExit(() => rmSync(path, { recursive: true, force: true }));
}

/** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function cleanUp() {
  for (const child of live) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {}
  }
}

process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User and system CPU time of a process (every thread), in ms; 0 once it is gone. */
export function cpuMs(pid: number): number {
  try {
    // The fields after the command name, which is in parentheses and may contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident memory now and at its highest, in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** A process and its children (PostgreSQL's postmaster and backends). */
export function processTree(pid: number): number[] {
  try {
    const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    return [pid, ...children];
  } catch {
    return [pid];
  }
}

/** Polls `url` until it answers 200; the milliseconds since `since`. */
export async function waitForAnswer(url: string, child: ChildProcess, since: number, timeoutMs = 120_000): Promise<number> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (status ${child.exitCode}) while starting`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return performance.now() - since;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${url}: no answer within ${timeoutMs / 1000} s`);
}

/** The first message a forked child sends that has `key` (it says it is ready). */
export function messageWith(child: ChildProcess, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (status ${code}) before it was ready`)));
  });
}

/** Request and answer over a forked child's IPC channel, matched by `id`. */
export function ipcCaller<Request extends object, Answer>(child: ChildProcess): (request: Request) => Promise<Answer> {
  let next = 0;
  const waiting = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();
  child.on('message', (message: { id?: number; error?: string }) => {
    const caller = message.id === undefined ? undefined : waiting.get(message.id);
    if (!caller) return;
    waiting.delete(message.id!);
    if (message.error) caller.reject(new Error(message.error));
    else caller.resolve(message as Answer);
  });
  child.once('exit', () => {
    for (const caller of waiting.values()) caller.reject(new Error('the child process exited'));
  });
  return (request) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ ...request, id });
    });
}
