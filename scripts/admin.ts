// npm run admin -- <command>: Sésame's administration command line.
// It works on the same settings (.env, environment) and database as the server, also while the
// server runs. Every command accepts --help and --json.
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { ConfigError } from '../src/config.ts';
import { DataDirBusyError } from '../src/db/embedded.ts';
import { SealingError } from '../src/oidc/sealing.ts';
import { ClientError } from '../src/clients/registry.ts';
import { ApiRegistrationError } from '../src/apis/registry.ts';
import { DuplicateEmailError } from '../src/accounts/users.ts';
import { registerClientCommands } from './admin/clients.ts';
import { registerUserCommands } from './admin/users.ts';
import { registerKeyCommands } from './admin/keys.ts';
import { registerApiCommands } from './admin/apis.ts';
import { registerWebhookCommands } from './admin/webhooks.ts';
import { registerAuditCommands } from './admin/audit.ts';
import { RefusedError, UsageError } from './admin/shared.ts';

const program = new Command('npm run admin --')
  .description('Sésame administration: relying apps (clients), accounts (users), signing keys and APIs')
  .showHelpAfterError()
  .exitOverride();
registerClientCommands(program);
registerUserCommands(program);
registerKeyCommands(program);
registerApiCommands(program);
registerWebhookCommands(program);
registerAuditCommands(program);

/** Errors of reaching or opening the database: socket errors, and PostgreSQL's own (SQLSTATE). */
function isDatabaseUnreachable(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET'].includes(code) || /^(08|28|3D)[0-9A-Z]{3}$/.test(code));
}

function explain(error: unknown): string | undefined {
  if (isDatabaseUnreachable(error)) return `cannot use the database (check DATABASE_URL, or DATA_DIR): ${error.message}`;
  if (error instanceof ZodError) {
    return error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('\n');
  }
  if (
    error instanceof UsageError ||
    error instanceof RefusedError ||
    error instanceof ClientError ||
    error instanceof ApiRegistrationError ||
    error instanceof DuplicateEmailError ||
    error instanceof ConfigError ||
    error instanceof SealingError ||
    error instanceof DataDirBusyError
  ) {
    return error.message;
  }
  return undefined;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const message = explain(error);
    console.error(`error: ${message ?? `unexpected failure: ${(error as Error).message}`}`);
    process.exitCode = error instanceof UsageError ? 2 : message ? 1 : 70;
  }
}

// Leave as soon as the output is written: the wasm schema engine never clears its 10 s lock
// timeout, which would otherwise keep every command alive 10 s after it has finished.
for (const stream of [process.stdout, process.stderr]) await new Promise((done) => stream.write('', done));
process.exit();
