// The admin CLI as an operator runs it: a separate Node process on the same settings and
// database as the server, its answers on stdout and its complaints on stderr.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN = join(ROOT, 'scripts/admin.ts');
const PATH = `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`;
// Shared with the test workers (vitest.config.ts): each CLI process starts faster, same behaviour.
const compileCache = process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {};

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run admin -- …args` the way npm does, in a directory of its own (no stray .env). */
export function runAdmin(env: Record<string, string>, cwd: string, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['--disable-warning=ExperimentalWarning', ADMIN, ...args], {
      cwd,
      env: { PATH, HOME: process.env.HOME ?? tmpdir(), ...compileCache, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The JSON a successful `--json` command printed, and nothing on stderr. */
export function parsed<T = any>(run: Run): T {
  expect(run.stderr, run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/**
 * A refusal: one clear line on stderr (no stack trace), nothing on stdout, and a non-zero exit:
 * `code` when given (1 refused input, 2 a command line that cannot run as written).
 */
export function expectRefused(run: Run, message: RegExp, code?: 1 | 2) {
  if (code === undefined) expect(run.code, `${run.stdout}\n${run.stderr}`).toBeGreaterThan(0);
  else expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(code);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/unexpected failure|\n\s+at /);
  expect(run.stdout).toBe('');
}
