// npm install runs this: generates the Prisma client into src/generated/prisma, offline.
// `prisma generate` does not use the native schema engine, but the CLI tries to download one
// unless PRISMA_SCHEMA_ENGINE_BINARY names a file; any existing file will do.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const result = spawnSync('prisma', ['generate'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: fileURLToPath(import.meta.url), PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
process.exit(result.status ?? 1);
