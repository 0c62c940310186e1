// Once per test run: the prepared embedded database brought up to date (as `npm install` does,
// for migrations written since), and from it a data directory with every migration applied,
// which each test file copies instead of creating its own (PGlite's initdb costs seconds, a copy
// milliseconds).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const prepare = fileURLToPath(new URL('../../scripts/db/prepare-data-dir.ts', import.meta.url));
  const prepared = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', prepare], { encoding: 'utf8' });
  if (prepared.status !== 0) throw new Error(`could not prepare the embedded database:\n${prepared.stdout}${prepared.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'sesame-template-'));
  const db = await openDatabase({ dataDir: dir }, { migrate: true });
  await db.close();
  project.provide('pgliteTemplate', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
