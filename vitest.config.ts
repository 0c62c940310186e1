import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Two files at a time, even on two cores (vitest would take one): most of a file's time is
    // spent waiting on servers, CLI processes, PostgreSQL or Chromium, not on the worker's CPU.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // A run starts hundreds of Node processes (test workers, the admin CLI, servers): with V8's
    // compile cache on disk, each one skips compiling the modules an earlier one already compiled.
    env: { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'sesame-test-compile-cache') },
  },
});
