// `admin apis …`: the APIs (resource servers) apps may ask access tokens for with `resource=`.
import type { Command } from 'commander';
import type { ApiRecord } from '../../src/apis/registry.ts';
import { withContext } from './context.ts';
import { details, emit, table } from './output.ts';
import { collect, parseDuration, UsageError } from './shared.ts';

function describe(api: ApiRecord) {
  return {
    id: api.id,
    name: api.name,
    scopes: api.scopes,
    client_ids: api.clientIds,
    server_client_id: api.serverClientId,
    access_token_format: api.serverClientId ? 'opaque (introspected)' : 'jwt',
    access_token_ttl: api.accessTokenTtl,
    created_at: api.createdAt,
    updated_at: api.updatedAt,
  };
}

function showApi(api: ReturnType<typeof describe>) {
  return details([
    ['id (resource)', api.id],
    ['name', api.name],
    ['scopes', api.scopes],
    ['allowed clients', api.client_ids],
    ['server client', api.server_client_id ?? '- (verifies JWTs itself)'],
    ['access tokens', api.access_token_format],
    ['token lifetime', api.access_token_ttl === null ? 'ACCESS_TOKEN_TTL (CLIENT_CREDENTIALS_TTL for client credentials)' : `${api.access_token_ttl} s`],
    ['created', api.created_at],
  ]);
}

export function registerApiCommands(program: Command) {
  const apis = program.command('apis').description('register the APIs (resource servers) apps may get access tokens for');

  apis
    .command('add')
    .description('register an API; apps name it with resource=<id>')
    .requiredOption('--id <uri>', 'the resource indicator, an https URI (e.g. https://orders.example.com); also the tokens’ aud')
    .requiredOption('--name <name>', 'the name people see on the consent page')
    .option('--scope <scope>', 'a scope the API defines, e.g. orders:read (repeatable)', collect, [])
    .option('--client <client-id>', 'an app allowed to ask for tokens for it (repeatable)', collect, [])
    .option('--server-client <client-id>', 'the confidential client the API introspects tokens with: its tokens are then opaque instead of JWTs')
    .option('--access-token-ttl <duration>', 'its access tokens’ lifetime, e.g. 5m (default: ACCESS_TOKEN_TTL)')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ apis: registry, audit }) => {
        const ttl = options.accessTokenTtl === undefined ? null : parseDuration(options.accessTokenTtl);
        const api = await registry.add({
          id: options.id,
          name: options.name,
          scopes: options.scope,
          clientIds: options.client,
          serverClientId: options.serverClient ?? null,
          accessTokenTtl: ttl,
        });
        await audit('api.add', api.id, { name: api.name, scopes: api.scopes, clients: api.clientIds, serverClient: api.serverClientId, accessTokenTtl: api.accessTokenTtl });
        const shown = describe(api);
        emit(options.json, shown, () => ['API registered.', showApi(shown)].join('\n'));
      }),
    );

  apis
    .command('list')
    .description('list registered APIs')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ apis: registry }) => {
        const all = (await registry.list()).map(describe);
        emit(options.json, all, () =>
          table(
            ['ID', 'NAME', 'SCOPES', 'CLIENTS', 'SERVER CLIENT', 'TOKENS'],
            all.map((a) => [a.id, a.name, a.scopes.join(' '), a.client_ids.join(','), a.server_client_id, a.access_token_format]),
          ),
        );
      }),
    );

  apis
    .command('show <id>')
    .description('show one API')
    .option('--json', 'print JSON')
    .action((id, options) =>
      withContext(async ({ apis: registry }) => {
        const api = describe(await registry.get(id));
        emit(options.json, api, () => showApi(api));
      }),
    );

  for (const [name, allow] of [['allow', true], ['deny', false]] as const) {
    apis
      .command(`${name} <id> <client-id>`)
      .description(allow ? 'let an app ask for tokens for the API' : 'stop an app from getting new tokens for the API (tokens it holds run out)')
      .option('--json', 'print JSON')
      .action((id, clientId, options) =>
        withContext(async ({ apis: registry, audit }) => {
          const api = describe(allow ? await registry.allow(id, clientId) : await registry.deny(id, clientId));
          await audit(`api.${name}`, id, { client: clientId });
          emit(options.json, api, () => `${allow ? 'Allowed' : 'Denied'} ${clientId} for ${id}. Allowed clients: ${api.client_ids.join(', ') || '(none)'}.`);
        }),
      );
  }

  apis
    .command('remove <id>')
    .description('delete an API: apps can no longer get tokens for it (tokens already issued run out)')
    .option('--yes', 'confirm the removal')
    .option('--json', 'print JSON')
    .action((id, options) =>
      withContext(async ({ apis: registry, audit }) => {
        await registry.get(id);
        if (!options.yes) throw new UsageError(`this deletes the API ${id}; run again with --yes to confirm`);
        await registry.remove(id);
        await audit('api.remove', id);
        emit(options.json, { id, removed: true }, () => `API ${id} removed.`);
      }),
    );
}
