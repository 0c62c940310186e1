// npm install runs this: generates the Prisma client into src/generated/prisma, offline, then
// prepares the embedded database an empty DATA_DIR starts from (prepare-data-dir.ts).
// `prisma generate` does not use the native schema engine, but the CLI tries to download one
// unless PRISMA_SCHEMA_ENGINE_BINARY names a file; any existing file will do.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const generated = spawnSync('prisma', ['generate'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: fileURLToPath(import.meta.url), PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
if (generated.status !== 0) process.exit(generated.status ?? 1);
const prepared = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(new URL('prepare-data-dir.ts', import.meta.url))], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(prepared.status ?? 1);
