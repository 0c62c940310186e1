// The prepared embedded database: PGlite's initdb and every migration, done once when Sésame is
// installed (scripts/db/prepare-data-dir.ts, run by `npm install`) rather than at a first start,
// where they cost seconds of CPU and hundreds of MiB that the process never gives back. An empty
// DATA_DIR starts as a copy of it; migrations written since it was made are applied as usual.
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const preparedDir = fileURLToPath(new URL('../generated/pgdata/', import.meta.url));
/** Which PGlite made it, and with which migrations. */
export const preparedStampPath = fileURLToPath(new URL('../generated/pgdata.json', import.meta.url));

export interface PreparedStamp {
  pglite: string;
  migrations: string[];
}

export function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export function readPreparedStamp(): PreparedStamp | undefined {
  if (!existsSync(join(preparedDir, 'PG_VERSION')) || !existsSync(preparedStampPath)) return undefined;
  return JSON.parse(readFileSync(preparedStampPath, 'utf8')) as PreparedStamp;
}

/**
 * Fills an empty or missing `pgdata` with the prepared database; false (nothing done) when there
 * is none, when another PGlite version made it (its files may not suit this one), or when
 * `pgdata` already holds something. The copy lands under another name first and is then renamed,
 * so that a process killed in the middle leaves no half database behind.
 */
export function startFromPreparedDataDir(pgdata: string): boolean {
  if (existsSync(pgdata) && readdirSync(pgdata).length > 0) return false;
  if (readPreparedStamp()?.pglite !== pgliteVersion()) return false;
  const copy = `${pgdata}.copy-${process.pid}`;
  rmSync(copy, { recursive: true, force: true });
  cpSync(preparedDir, copy, { recursive: true });
  // The prepared files are readable by all (the image's user is not the one that built them).
  chmodSync(copy, 0o700);
  rmSync(pgdata, { recursive: true, force: true });
  renameSync(copy, pgdata);
  return true;
}
