// Holds the running oidc-provider and rebuilds it when its keys change: a signing key starts or
// stops signing or being published, is revoked, or the cookie keys change. Every replica looks at
// the database every KEY_REFRESH_INTERVAL, and also at the next moment the keys change by
// themselves (a pending key starts signing, a replaced one retires, a rotation falls due), so a
// change happens on time on every replica without a restart. Looking is also when the schedule
// rotates keys (keys.ts, secrets.ts): whichever replica looks first adds the successor.
import compose from 'koa-compose';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { KeyStore, ProviderKeySet } from './keys.ts';
import { providerKeySet } from './keys.ts';
import { dueForRotation, nextTransition } from './key-life.ts';
import type { Retention, RotationSchedule } from './key-life.ts';
import type { ServerSecrets } from './secrets.ts';
import type { Logger } from '../log.ts';

export interface ProviderHost {
  current(): Provider;
  /** Koa middleware that hands the request to the current provider. */
  middleware: Koa.Middleware;
  /** Rotates what is due and reloads the keys now; returns true if the provider was rebuilt. */
  refresh(): Promise<boolean>;
  stop(): void;
}

export interface HostOptions {
  keys: KeyStore;
  secrets: ServerSecrets;
  build(jwks: ProviderKeySet['jwks'], cookieKeys: string[]): Provider;
  retention: Retention;
  schedule: RotationSchedule;
  refreshIntervalSeconds: number;
  /** Seconds relying apps may cache the JWKS (Cache-Control on /jwks): `schedule.lead` counts on it. */
  jwksMaxAge: number;
  log: Logger;
}

export async function createProviderHost(options: HostOptions): Promise<ProviderHost> {
  const { keys, secrets, build, retention, schedule, log } = options;
  let fingerprint = '';
  let provider: Provider;
  let handle: Koa.Middleware;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const reload = async () => {
    const now = new Date();
    let stored = await keys.list();
    if (dueForRotation(stored, now, retention, schedule.interval).length) {
      const created = await keys.rotateDue(now, retention, schedule);
      if (created.length) log.info({ keys: created }, 'signing keys rotated on schedule: published now, signing later');
      stored = await keys.list();
    }
    if (await secrets.refresh(now)) log.info({ cookieKeys: secrets.describe(now).map(({ kid, status }) => `${kid}:${status}`) }, 'cookie keys changed');
    const keySet = providerKeySet(stored, now, retention);
    const next = `${keySet.fingerprint}|${secrets.fingerprint()}`;
    const changes = [nextTransition(stored, now, retention, schedule.interval), secrets.nextTransition(now)];
    if (next === fingerprint) return { rebuilt: false, changes };
    provider = build(keySet.jwks, secrets.cookieKeys());
    handle = compose(provider.middleware) as Koa.Middleware;
    if (fingerprint) log.info({ keys: keySet.fingerprint }, 'keys changed: provider rebuilt');
    fingerprint = next;
    return { rebuilt: true, changes };
  };

  // One reload at a time: the timer's and one asked for (the CLI tests, start-up).
  let queue: Promise<unknown> = Promise.resolve();
  const refresh = () => {
    const run = queue.then(reload);
    queue = run.catch(() => {});
    return run;
  };

  /** Looks again at the next change, or after KEY_REFRESH_INTERVAL, whichever comes first. */
  const lookAgain = (changes: (Date | undefined)[]) => {
    if (stopped) return;
    const soonest = Math.min(...changes.map((date) => date?.getTime() ?? Infinity));
    // setTimeout takes at most 2^31-1 ms (about 24 days).
    const delay = Math.max(0, Math.min(options.refreshIntervalSeconds * 1000, soonest - Date.now(), 2 ** 31 - 1));
    timer = setTimeout(tick, delay);
    timer.unref();
  };
  const tick = () => {
    refresh().then(
      ({ changes }) => lookAgain(changes),
      (error) => {
        log.error({ err: error }, 'could not reload signing keys');
        lookAgain([]);
      },
    );
  };

  lookAgain((await refresh()).changes);

  return {
    current: () => provider,
    async middleware(ctx, next) {
      await handle(ctx, next);
      // Explicit, because a new key's lead counts on it: a copy of the JWKS is stale after this.
      if ((ctx as Partial<KoaContextWithOIDC>).oidc?.route === 'jwks' && ctx.status === 200) ctx.set('Cache-Control', `public, max-age=${options.jwksMaxAge}`);
    },
    refresh: async () => (await refresh()).rebuilt,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
