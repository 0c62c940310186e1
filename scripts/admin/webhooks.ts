// `admin webhooks …`: the endpoints that receive user and session events, and their deliveries.
import type { Command } from 'commander';
import { EVENT_TYPES } from '../../src/webhooks/events.ts';
import { WebhookError } from '../../src/webhooks/endpoints.ts';
import { retrySpanSeconds } from '../../src/webhooks/queue.ts';
import { withContext } from './context.ts';
import { details, emit, table } from './output.ts';
import { choices, collect, RefusedError, UsageError } from './shared.ts';

const SECRET_NOTE = 'The secret is shown only this once: give it to the receiving app (Standard Webhooks: `new Webhook(secret).verify(body, headers)`).';

export function registerWebhookCommands(program: Command) {
  const webhooks = program.command('webhooks').description('send user and session events to apps (Standard Webhooks)');

  webhooks
    .command('add')
    .description('register an endpoint and print its signing secret (once)')
    .requiredOption('--url <url>', 'where events are POSTed (https://; plain http only to localhost in production)')
    .option('--event <type>', `${EVENT_TYPES.join(', ')} (repeatable; default: all)`, collect, [])
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async (context) => {
        const events = choices(options.event, EVENT_TYPES, 'event');
        const added = await context.webhooks
          .endpoints.add({ url: options.url, events })
          .catch((error: unknown) => {
            throw error instanceof WebhookError ? new RefusedError(error.message) : error;
          });
        await context.audit('webhook.add', added.id, { url: added.url, events: added.events });
        const { retryDelay, maxAttempts } = context.config.webhooks;
        emit(options.json, { id: added.id, url: added.url, events: added.events, secret: added.secret }, () =>
          [
            'Endpoint registered.',
            details([
              ['id', added.id],
              ['url', added.url],
              ['events', added.events.length ? added.events : ['all']],
              ['secret', added.secret],
              ['retries', `for ${Math.round(retrySpanSeconds(maxAttempts, retryDelay) / 3600)} h (${maxAttempts} attempts)`],
            ]),
            '',
            SECRET_NOTE,
          ].join('\n'),
        );
      }),
    );

  webhooks
    .command('list')
    .description('list the endpoints, with their pending and failed deliveries')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async (context) => {
        const all = (await context.webhooks.endpoints.list()).map((e) => ({ id: e.id, url: e.url, events: e.events, pending: e.pending, failed: e.failed, created_at: e.createdAt }));
        emit(options.json, all, () => table(['ID', 'URL', 'EVENTS', 'PENDING', 'FAILED', 'CREATED'], all.map((e) => [e.id, e.url, e.events.join(',') || 'all', e.pending, e.failed, e.created_at])));
      }),
    );

  webhooks
    .command('remove <id>')
    .description('delete an endpoint; its pending deliveries are never sent')
    .option('--yes', 'confirm the removal')
    .option('--json', 'print JSON')
    .action((id: string, options) =>
      withContext(async (context) => {
        const { endpoints } = context.webhooks;
        if (!(await endpoints.exists(id))) throw new RefusedError(`no webhook endpoint ${id}`);
        if (!options.yes) throw new UsageError(`this deletes endpoint ${id} and its deliveries; run again with --yes to confirm`);
        await endpoints.remove(id);
        await context.audit('webhook.remove', id);
        emit(options.json, { id, removed: true }, () => `Endpoint ${id} removed.`);
      }),
    );

  webhooks
    .command('deliveries')
    .description('the latest deliveries, newest first')
    .option('--failed', 'only those given up')
    .option('--endpoint <id>', 'only to this endpoint')
    .option('--limit <n>', 'how many (default 50, at most 1000)', '50')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async (context) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit ${options.limit}: use a whole number from 1 to 1000`);
        const rows = await context.webhooks.deliveries.list({ failed: Boolean(options.failed), endpointId: options.endpoint, limit });
        const shown = rows.map((d) => ({
          id: d.id,
          event_id: d.eventId,
          type: d.type,
          endpoint_id: d.endpointId,
          url: d.url,
          status: d.status,
          attempts: d.attempts,
          last_status: d.lastStatus,
          last_error: d.lastError,
          next_attempt_at: d.nextAttemptAt,
          created_at: d.createdAt,
          delivered_at: d.deliveredAt,
        }));
        emit(options.json, shown, () =>
          table(
            ['EVENT ID', 'TYPE', 'ENDPOINT', 'STATUS', 'ATTEMPTS', 'LAST', 'NEXT ATTEMPT', 'CREATED'],
            shown.map((d) => [d.event_id, d.type, d.endpoint_id, d.status, d.attempts, d.last_error ?? d.last_status, d.next_attempt_at, d.created_at]),
          ),
        );
      }),
    );

  webhooks
    .command('replay <event-id>')
    .description('send an event again, with the same webhook-id (receivers that have it ignore it)')
    .option('--endpoint <id>', 'only to this endpoint (default: every endpoint subscribed to the event)')
    .option('--json', 'print JSON')
    .action((eventId: string, options) =>
      withContext(async (context) => {
        const queued = await context.webhooks.deliveries.replay(eventId, options.endpoint);
        if (!queued) throw new RefusedError(options.endpoint ? `no event ${eventId} for endpoint ${options.endpoint}` : `no event ${eventId}, or no endpoint receives it`);
        await context.audit('webhook.replay', eventId, { endpoint: options.endpoint ?? null, queued });
        emit(options.json, { event_id: eventId, queued }, () => `Event ${eventId} queued again for ${queued} endpoint${queued === 1 ? '' : 's'}.`);
      }),
    );
}
