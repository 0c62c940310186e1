// `admin keys …`: the signing keys every replica publishes and signs with.
import type { Command } from 'commander';
import { SIGNING_ALGORITHMS } from '../../src/oidc/keys.ts';
import { describeKeys, signingKeyPolicy } from '../../src/oidc/key-life.ts';
import type { KeyView } from '../../src/oidc/key-life.ts';
import { withContext } from './context.ts';
import { emit, table } from './output.ts';
import { choices, collect, parseDuration, RefusedError } from './shared.ts';

const asJson = (v: KeyView) => ({ kid: v.kid, alg: v.alg, status: v.status, created_at: v.createdAt, activates_at: v.activatesAt, published_until: v.publishedUntil, revoked_at: v.revokedAt });

export function registerKeyCommands(program: Command) {
  const keys = program.command('keys').description('list, rotate and revoke token-signing keys (they also rotate by themselves every KEY_ROTATION_INTERVAL)');

  keys
    .command('list')
    .description('list signing keys and their state (pending, active, retiring, retired, revoked)')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ keys: store, config }) => {
        const views = describeKeys(await store.list(), new Date(), signingKeyPolicy(config).retention);
        emit(options.json, views.map(asJson), () =>
          table(
            ['KID', 'ALG', 'STATUS', 'CREATED', 'SIGNS FROM', 'PUBLISHED UNTIL'],
            views.map((v) => [v.kid, v.alg, v.status, v.createdAt, v.activatesAt, v.publishedUntil ?? (v.status === 'retired' || v.status === 'revoked' ? '-' : 'while in use')]),
          ),
        );
      }),
    );

  keys
    .command('rotate')
    .description('add new signing keys now: published at once, signing after --activate-in; old keys stay published until their tokens expire')
    .option('--alg <alg>', `only this algorithm (repeatable): ${SIGNING_ALGORITHMS.join(', ')}`, collect, [])
    .option('--activate-in <duration>', 'delay before the new keys sign, e.g. 0, 30m, 1h (default: JWKS_MAX_AGE + KEY_REFRESH_INTERVAL, so every replica and relying app sees them first)')
    .option('--json', 'print JSON')
    .action((options) => {
      const given = choices(options.alg, SIGNING_ALGORITHMS, 'algorithm');
      const algs = given.length ? given : [...SIGNING_ALGORITHMS];
      const delay = options.activateIn === undefined ? undefined : parseDuration(options.activateIn);
      return withContext(async ({ keys: store, audit, config }) => {
        const activatesAt = new Date(Date.now() + (delay ?? signingKeyPolicy(config).schedule.lead) * 1000);
        const created = await store.rotate(algs, activatesAt);
        for (const key of created) await audit('key.rotate', key.kid, { alg: key.alg, activatesAt });
        emit(options.json, created.map((key) => ({ ...key, activates_at: activatesAt })), () =>
          `${table(['KID', 'ALG', 'SIGNS FROM'], created.map((key) => [key.kid, key.alg, activatesAt]))}\n\nNew keys are published now and start signing at ${activatesAt.toISOString()}.`,
        );
      });
    });

  keys
    .command('revoke')
    .description('withdraw a key at once (after a leak): no replica publishes or uses it after its next key refresh, tokens it signed stop verifying; a signing key is replaced by a new one at once')
    .argument('<kid>', 'the key id (keys list)')
    .option('--json', 'print JSON')
    .action((kid: string, options) =>
      withContext(async ({ keys: store, audit, config }) => {
        const result = await store.revoke(kid, new Date(), signingKeyPolicy(config).retention);
        if (!result) throw new RefusedError(`no signing key "${kid}"`);
        if (result.key.status === 'revoked') throw new RefusedError(`key "${kid}" was already revoked at ${result.key.revokedAt!.toISOString()}`);
        const { key, replacement } = result;
        await audit('key.revoke', kid, { alg: key.alg, was: key.status, ...(replacement ? { replacement: replacement.kid } : {}) });
        emit(options.json, { kid, alg: key.alg, was: key.status, replacement: replacement?.kid ?? null }, () =>
          [
            `Key ${kid} (${key.alg}, ${key.status}) is revoked: replicas stop publishing and using it within KEY_REFRESH_INTERVAL (${config.keyRefreshInterval}s).`,
            ...(replacement ? [`Key ${replacement.kid} signs ${key.alg} tokens from now on.`] : []),
          ].join('\n'),
        );
      }),
    );
}
