// The real server as an operator runs it: `node src/main.ts` in a process of its own, on the
// settings given, in a directory without a .env. Tests signal it, watch its exit and read its logs.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/main.ts');
const PATH = `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`;

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every line written to stdout and stderr so far. */
  readonly logs: string[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True while the process runs. */
  alive(): boolean;
  /** SIGKILL, if it still runs (test clean-up). */
  kill(): Promise<void>;
}

/** Starts Sésame with `env` (DATABASE_URL or DATA_DIR, and any setting) and waits until it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'sesame-process-'));
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('node', ['--disable-warning=ExperimentalWarning', MAIN], {
    cwd,
    env: {
      PATH,
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: 'test',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      LOG_LEVEL: 'info',
      DATA_DIR: join(cwd, 'data'),
      HOST: '127.0.0.1',
      PORT: String(port),
      ISSUER: url,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let running = true;
  void exited.then(() => (running = false));
  const listening = new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        logs.push(line);
        if (line.includes('Sésame is listening')) resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then(({ code }) => reject(new Error(`the server exited (${code}) before listening:\n${logs.join('\n')}`)));
  });
  const kill = async () => {
    if (!running) return;
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await listening;
  } catch (error) {
    await kill();
    throw error;
  }
  return { url, child, logs, exited, alive: () => running, kill };
}
