// `admin users import`: accounts from a JSON-lines file or an Auth.js database (src/accounts/import.ts).
// Prints every refused row with its line and reason, then a summary; exits 1 if any row was refused.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createUserImport, summarise } from '../../src/accounts/import.ts';
import type { RowResult } from '../../src/accounts/import.ts';
import { parseImportRow, readJsonLines } from '../../src/accounts/import-rows.ts';
import type { ParsedRow } from '../../src/accounts/import-rows.ts';
import { AuthjsSourceError, readAuthjsUsers } from '../../src/accounts/import-authjs.ts';
import { adminActor } from '../../src/audit/trail.ts';
import { withContext } from './context.ts';
import { emit } from './output.ts';
import { RefusedError, UsageError } from './shared.ts';

async function readSource(file: string | undefined, authjsUrl: string | undefined, roleNames: readonly string[]): Promise<ParsedRow[]> {
  if (authjsUrl) {
    const values = await readAuthjsUsers(authjsUrl).catch((error: Error) => {
      throw new RefusedError(error instanceof AuthjsSourceError ? error.message : `cannot read the Auth.js database: ${error.message}`);
    });
    return values.map((value, index) => parseImportRow(value, index + 1, roleNames));
  }
  let text: string;
  try {
    text = readFileSync(file!, 'utf8');
  } catch (error) {
    throw new RefusedError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return readJsonLines(text).map((entry) =>
    'error' in entry ? { refused: { line: entry.line, ref: '-', reason: entry.error } } : parseImportRow(entry.value, entry.line, roleNames),
  );
}

function report(results: RowResult[], dryRun: boolean): string {
  const verb = { created: dryRun ? 'would create' : 'created', updated: dryRun ? 'would update' : 'updated' };
  const lines = results.flatMap((r) => {
    if (r.outcome === 'refused') return [`line ${r.line} (${r.ref}): refused: ${r.reason}`];
    if (r.outcome === 'created') return [`line ${r.line} (${r.ref}): ${verb.created}`];
    if (r.outcome === 'updated') return [`line ${r.line} (${r.ref}): ${verb.updated} ${r.changes!.join(', ')}`];
    return [];
  });
  const s = summarise(results);
  const summary = `${dryRun ? 'Dry run, nothing written: ' : ''}${s.total} rows: ${s.created} ${verb.created}, ${s.updated} ${verb.updated}, ${s.unchanged} unchanged, ${s.refused} refused.`;
  return [...lines, summary].join('\n');
}

export function registerUserImportCommand(users: Command) {
  users
    .command('import [file]')
    .description('import accounts with their passwords (bcrypt or argon2id hashes), from a JSON-lines file or an Auth.js database')
    .option('--from-authjs <database-url>', 'read the "User" and "Account" tables of an Auth.js (NextAuth) PostgreSQL database')
    .option('--dry-run', 'show what would change, write nothing')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, options) => {
      if (Boolean(file) === Boolean(options.fromAuthjs)) throw new UsageError('give either a JSON-lines file or --from-authjs <database-url>');
      await withContext(async ({ prisma, config, audit }) => {
        const parsed = await readSource(file, options.fromAuthjs, config.roles.names);
        const importer = createUserImport({ prisma, defaultRoles: config.roles.defaults, actor: adminActor() });
        const dryRun = Boolean(options.dryRun);
        const results = await importer.run(parsed, { dryRun });
        const summary = summarise(results);
        const source = options.fromAuthjs ? 'authjs' : file!;
        if (!dryRun) await audit('user.import', source, summary);
        emit(
          options.json,
          { dry_run: dryRun, ...summary, rows: results.filter((r) => r.outcome !== 'unchanged') },
          () => report(results, dryRun),
        );
        if (summary.refused) process.exitCode = 1;
      });
    });
}
