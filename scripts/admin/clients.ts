// `admin clients …`: register and manage relying apps.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { ClientRecord } from '../../src/clients/registry.ts';
import { GRANTS } from '../../src/clients/definition.ts';
import { SESAME_API_SCOPES } from '../../src/oidc/scopes.ts';
import { readClientFiles, syncClients } from '../../src/clients/sync.ts';
import { withContext } from './context.ts';
import { details, emit, table } from './output.ts';
import { choices, collect, UsageError } from './shared.ts';

function describe(client: ClientRecord) {
  const d = client.definition;
  return {
    client_id: client.clientId,
    client_name: d.client_name,
    type: d.public ? 'public' : 'confidential',
    first_party: d.first_party,
    grant_types: d.grant_types,
    redirect_uris: d.redirect_uris,
    post_logout_redirect_uris: d.post_logout_redirect_uris,
    allowed_scopes: d.allowed_scopes,
    allow_missing_pkce: d.allow_missing_pkce,
    development: d.development,
    require_mfa: d.require_mfa,
    backchannel_logout_uri: d.backchannel_logout_uri ?? null,
    status: client.disabled ? 'disabled' : 'enabled',
    source: client.source,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  };
}

function showClient(client: ReturnType<typeof describe>, extra: [string, string][] = []) {
  return details([
    ['client id', client.client_id],
    ...extra,
    ['name', client.client_name],
    ['type', client.type],
    ...(client.development ? [['development', 'YES: loopback redirect URIs allowed for a confidential app; refused with NODE_ENV=production'] as [string, string]] : []),
    ['first-party', client.first_party ? 'yes (no consent page)' : 'no'],
    ['grants', client.grant_types],
    ['redirect URIs', client.redirect_uris],
    ['post-logout URIs', client.post_logout_redirect_uris],
    ['back-channel logout', client.backchannel_logout_uri ?? 'none'],
    ['allowed API scopes', client.allowed_scopes],
    ['second factor', client.require_mfa ? 'required for every sign-in' : 'when the account has one, or the app asks (acr_values)'],
    ['missing PKCE', client.allow_missing_pkce ? 'ALLOWED (weaker: a nonce is required instead)' : 'refused (PKCE required)'],
    ['status', client.status],
    ['source', client.source],
  ]);
}

const SECRET_NOTE = 'The secret is shown only this once: store it in the app’s secret store now.';

export function registerClientCommands(program: Command) {
  const clients = program.command('clients').description('register and manage relying apps');

  clients
    .command('add')
    .description('register a relying app and print its client id (and secret, once)')
    .requiredOption('--name <name>', 'the name people see on the consent page')
    .option('--id <client-id>', 'choose the client id (default: made from the name)')
    .option('--redirect-uri <uri>', 'where sign-ins return (repeatable; required for sign-in)', collect, [])
    .option('--post-logout-redirect-uri <uri>', 'where sign-outs may return (repeatable)', collect, [])
    .option('--public', 'a browser or mobile app that cannot keep a secret (PKCE, no secret)', false)
    .option('--first-party', "the company's own app: people are not asked for consent", false)
    .option('--grant <grant>', `${GRANTS.join(', ')} (repeatable; default: authorization_code and refresh_token)`, collect, [])
    .option('--allow-scope <scope>', `one of Sésame's API scopes the app may get with client_credentials: ${SESAME_API_SCOPES.join(', ')} (repeatable)`, collect, [])
    .option('--allow-missing-pkce', 'weakens sign-in: accept authorization requests without PKCE (confidential apps only; they must send a nonce)', false)
    .option('--development', 'a confidential app on a developer’s machine: allows loopback redirect URIs (http://localhost…); refused with NODE_ENV=production', false)
    .option('--backchannel-logout-uri <url>', 'where the app receives logout tokens when a session it took part in ends (https; loopback http for --development)')
    .option('--require-mfa', 'every sign-in to the app takes a second factor (people without one set one up then)', false)
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ clients: registry, audit, config }) => {
        const grants = choices(options.grant, GRANTS, 'grant');
        const scopes = choices(options.allowScope, SESAME_API_SCOPES, 'scope');
        const { client, secret } = await registry.add({
          client_id: options.id,
          client_name: options.name,
          redirect_uris: options.redirectUri,
          post_logout_redirect_uris: options.postLogoutRedirectUri,
          grant_types: grants.length ? grants : ['authorization_code', 'refresh_token'],
          public: options.public,
          first_party: options.firstParty,
          allowed_scopes: scopes,
          allow_missing_pkce: options.allowMissingPkce,
          development: options.development,
          require_mfa: options.requireMfa,
          ...(options.backchannelLogoutUri !== undefined ? { backchannel_logout_uri: options.backchannelLogoutUri } : {}),
        });
        const { allowed_scopes, allow_missing_pkce } = client.definition;
        await audit('client.add', client.clientId, {
          name: client.definition.client_name,
          ...(allowed_scopes.length ? { allowedScopes: allowed_scopes } : {}),
          ...(allow_missing_pkce ? { allowMissingPkce: true } : {}),
          ...(client.definition.development ? { development: true } : {}),
          ...(client.definition.require_mfa ? { requireMfa: true } : {}),
          ...(client.definition.backchannel_logout_uri ? { backchannelLogoutUri: client.definition.backchannel_logout_uri } : {}),
        });
        const shown = describe(client);
        emit(options.json, { ...shown, ...(secret ? { client_secret: secret } : {}), issuer: config.issuer }, () =>
          [
            'Client registered.',
            showClient(shown, [...(secret ? [['client secret', secret] as [string, string]] : []), ['issuer', config.issuer]]),
            ...(secret ? ['', SECRET_NOTE] : []),
          ].join('\n'),
        );
      }),
    );

  clients
    .command('list')
    .description('list registered relying apps')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ clients: registry }) => {
        const all = (await registry.list()).map(describe);
        emit(options.json, all, () =>
          table(
            ['CLIENT ID', 'NAME', 'TYPE', 'FIRST-PARTY', 'GRANTS', 'STATUS', 'SOURCE'],
            all.map((c) => [c.client_id, c.client_name, c.development ? `${c.type} (development)` : c.type, c.first_party ? 'yes' : 'no', c.grant_types.join(','), c.status, c.source]),
          ),
        );
      }),
    );

  clients
    .command('show <client-id>')
    .description('show one relying app')
    .option('--json', 'print JSON')
    .action((clientId, options) =>
      withContext(async ({ clients: registry }) => {
        const client = describe(await registry.get(clientId));
        emit(options.json, client, () => showClient(client));
      }),
    );

  clients
    .command('update <client-id>')
    .description('change a registered app: what no option names stays as it is')
    .option('--backchannel-logout-uri <url>', 'where the app receives logout tokens (https; loopback http for a development app)')
    .option('--no-backchannel-logout-uri', 'stop sending the app logout tokens')
    .option('--require-mfa', 'every sign-in to the app takes a second factor')
    .option('--no-require-mfa', 'a second factor only when the account has one or the app asks (acr_values)')
    .option('--json', 'print JSON')
    .action((clientId, options) =>
      withContext(async ({ clients: registry, audit }) => {
        const { definition } = await registry.get(clientId);
        const changes: Partial<typeof definition> = {};
        if (options.backchannelLogoutUri !== undefined) changes.backchannel_logout_uri = options.backchannelLogoutUri || undefined;
        if (options.requireMfa !== undefined) changes.require_mfa = options.requireMfa;
        if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: name at least one option (see --help)');
        const { client, secret } = await registry.update(clientId, { ...definition, ...changes });
        await audit('client.update', clientId, { changed: Object.keys(changes) });
        const shown = describe(client);
        emit(options.json, { ...shown, ...(secret ? { client_secret: secret } : {}) }, () =>
          ['Client updated.', showClient(shown, secret ? [['client secret', secret]] : []), ...(secret ? ['', SECRET_NOTE] : [])].join('\n'),
        );
      }),
    );

  clients
    .command('rotate-secret <client-id>')
    .description('replace the secret of a confidential app (the old one stops working within CLIENT_CACHE_TTL seconds)')
    .option('--json', 'print JSON')
    .action((clientId, options) =>
      withContext(async ({ clients: registry, audit }) => {
        const secret = await registry.rotateSecret(clientId);
        await audit('client.rotate-secret', clientId);
        emit(options.json, { client_id: clientId, client_secret: secret }, () =>
          details([['client id', clientId], ['client secret', secret]]) + `\n\n${SECRET_NOTE}`,
        );
      }),
    );

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    clients
      .command(`${name} <client-id>`)
      .description(disabled ? 'stop an app from signing people in or using its tokens' : 'allow a disabled app again')
      .option('--json', 'print JSON')
      .action((clientId, options) =>
        withContext(async ({ clients: registry, audit }) => {
          const client = describe(await registry.setDisabled(clientId, disabled));
          await audit(`client.${name}`, clientId);
          emit(options.json, client, () => `Client ${clientId} is now ${client.status}.`);
        }),
      );
  }

  clients
    .command('remove <client-id>')
    .description('delete an app and every token, code and grant issued to it')
    .option('--yes', 'confirm the removal')
    .option('--json', 'print JSON')
    .action((clientId, options) =>
      withContext(async ({ clients: registry, audit }) => {
        await registry.get(clientId);
        if (!options.yes) throw new UsageError(`this deletes ${clientId} and revokes all its tokens; run again with --yes to confirm`);
        await registry.remove(clientId);
        await audit('client.remove', clientId);
        emit(options.json, { client_id: clientId, removed: true }, () => `Client ${clientId} removed.`);
      }),
    );

  clients
    .command('sync [dir]')
    .description('apply the client files of a directory (default: clients/), one JSON file per app')
    .option('--prune', 'also remove clients whose file is gone')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--json', 'print JSON')
    .action((dir: string | undefined, options) =>
      withContext(async ({ clients: registry, audit }) => {
        const files = readClientFiles(resolve(dir ?? 'clients'));
        const actions = await syncClients(registry, files, { prune: options.prune, dryRun: options.dryRun });
        if (!options.dryRun) {
          for (const item of actions) {
            if (item.action === 'create' || item.action === 'update' || item.action === 'remove') {
              await audit(`client.sync.${item.action}`, item.clientId, { file: item.file });
            }
          }
        }
        emit(options.json, actions, () =>
          [
            table(['ACTION', 'CLIENT ID', 'FILE', 'NEW SECRET'], actions.map((a) => [
              options.dryRun ? `${a.action} (dry run)` : a.action,
              a.clientId,
              a.file,
              'secret' in a ? a.secret : undefined,
            ])),
            ...(actions.some((a) => a.action === 'orphaned') ? ['', 'Orphaned clients have no file any more; --prune removes them.'] : []),
            ...(actions.some((a) => 'secret' in a && a.secret) ? ['', SECRET_NOTE] : []),
          ].join('\n'),
        );
      }),
    );
}
