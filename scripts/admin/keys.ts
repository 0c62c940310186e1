// `admin keys …`: the signing keys every replica publishes and signs with.
import type { Command } from 'commander';
import { describeKeys, SIGNING_ALGORITHMS } from '../../src/oidc/keys.ts';
import { withContext } from './context.ts';
import { emit, table } from './output.ts';
import { choices, collect, parseDuration } from './shared.ts';

export function registerKeyCommands(program: Command) {
  const keys = program.command('keys').description('list and rotate token-signing keys');

  keys
    .command('list')
    .description('list signing keys and their state (pending, active, retiring, retired)')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ keys: store, config }) => {
        const views = describeKeys(await store.list(), new Date(), config.ttl.idToken);
        const json = views.map((v) => ({ kid: v.kid, alg: v.alg, status: v.status, created_at: v.createdAt, activates_at: v.activatesAt, published_until: v.publishedUntil }));
        emit(options.json, json, () =>
          table(
            ['KID', 'ALG', 'STATUS', 'CREATED', 'SIGNS FROM', 'PUBLISHED UNTIL'],
            views.map((v) => [v.kid, v.alg, v.status, v.createdAt, v.activatesAt, v.publishedUntil ?? (v.status === 'retired' ? '-' : 'while in use')]),
          ),
        );
      }),
    );

  keys
    .command('rotate')
    .description('add new signing keys: published at once, signing after --activate-in; old keys stay published until their tokens expire')
    .option('--alg <alg>', `only this algorithm (repeatable): ${SIGNING_ALGORITHMS.join(', ')}`, collect, [])
    .option('--activate-in <duration>', 'delay before the new keys sign, e.g. 0, 30m, 1h (default 1h: every replica and relying app sees them first)', '1h')
    .option('--json', 'print JSON')
    .action((options) => {
      const given = choices(options.alg, SIGNING_ALGORITHMS, 'algorithm');
      const algs = given.length ? given : [...SIGNING_ALGORITHMS];
      const activatesAt = new Date(Date.now() + parseDuration(options.activateIn) * 1000);
      return withContext(async ({ keys: store, audit }) => {
        const created = await store.rotate(algs, activatesAt);
        for (const key of created) await audit('key.rotate', key.kid, { alg: key.alg, activatesAt });
        emit(options.json, created.map((key) => ({ ...key, activates_at: activatesAt })), () =>
          `${table(['KID', 'ALG', 'SIGNS FROM'], created.map((key) => [key.kid, key.alg, activatesAt]))}\n\nNew keys are published now and start signing at ${activatesAt.toISOString()}.`,
        );
      });
    });
}
