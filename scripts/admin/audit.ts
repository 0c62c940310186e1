// `admin audit …`: read the audit trail (sign-ins, self-service, consents, refusals, sign-outs and
// every change made with this CLI), newest first.
import type { Command } from 'commander';
import { emailKey } from '../../src/accounts/users.ts';
import { listAuditEvents } from '../../src/audit/history.ts';
import type { AuditFilter, AuditRow } from '../../src/audit/history.ts';
import { withContext } from './context.ts';
import { emit, table } from './output.ts';
import { parseDuration, UsageError } from './shared.ts';

const MAX_LIMIT = 10_000;

function limitOf(text: string): number {
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

/** Details on one line: key=value, lists joined by commas. */
function summary(details: unknown): string {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`)
    .join(' ');
}

function showEvents(events: AuditRow[]): string {
  return table(
    ['TIME', 'ACTION', 'ACTOR', 'TARGET', 'USER', 'CLIENT', 'IP', 'REQUEST', 'DETAILS'],
    events.map((e) => [e.at, e.action, e.actor, e.target, e.user_id, e.client_id, e.ip, e.request_id, summary(e.details)]),
  );
}

export function registerAuditCommands(program: Command) {
  const audit = program.command('audit').description('read the audit trail: sign-ins, self-service, consents, refusals, sign-outs, admin changes');

  audit
    .command('list')
    .description('list events, newest first')
    .option('--user <id-or-email>', 'about this account (an address also finds failures against it, account or not)')
    .option('--client <id>', 'about this app')
    .option('--type <type>', 'this action (sign-in.failed) or family of actions (sign-in)')
    .option('--since <duration>', 'only the last 90s, 15m, 24h, 7d…')
    .option('--limit <n>', `at most this many (1–${MAX_LIMIT})`, '100')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ prisma, users }) => {
        const filter: AuditFilter = { limit: limitOf(options.limit) };
        if (options.type !== undefined) {
          if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/.test(options.type)) throw new UsageError(`"${options.type}" is not an event type: use for example sign-in, sign-in.failed or client.add`);
          filter.type = options.type;
        }
        if (options.since !== undefined) filter.since = new Date(Date.now() - parseDuration(options.since) * 1000);
        if (options.client !== undefined) filter.clientId = options.client;
        if (options.user !== undefined) {
          const user = String(options.user);
          const found = user.includes('@') ? await users.findByEmail(user) : null;
          filter.user = user.includes('@') ? { ids: found ? [found.id] : [], targets: [emailKey(user)] } : { ids: [user], targets: [user] };
        }
        const events = await listAuditEvents(prisma, filter);
        emit(options.json, events, () => showEvents(events));
      }),
    );
}
