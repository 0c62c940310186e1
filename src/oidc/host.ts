// Holds the running oidc-provider and rebuilds it when the signing keys change (a rotated key
// starts or stops signing, or being published). Every replica polls the key table, so all of
// them publish a new key before it signs, and keep an old one published until it has expired.
import compose from 'koa-compose';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KeyStore, ProviderKeySet } from './keys.ts';
import { providerKeySet } from './keys.ts';
import type { Logger } from '../log.ts';

export interface ProviderHost {
  current(): Provider;
  /** Koa middleware that hands the request to the current provider. */
  middleware: Koa.Middleware;
  /** Reloads the keys now; returns true if the provider was rebuilt. */
  refresh(): Promise<boolean>;
  stop(): void;
}

export interface HostOptions {
  keys: KeyStore;
  build(jwks: ProviderKeySet['jwks']): Provider;
  idTokenTtl: number;
  refreshIntervalSeconds: number;
  log: Logger;
}

export async function createProviderHost({ keys, build, idTokenTtl, refreshIntervalSeconds, log }: HostOptions): Promise<ProviderHost> {
  const load = async () => providerKeySet(await keys.list(), new Date(), idTokenTtl);
  let keySet = await load();
  let provider = build(keySet.jwks);
  let handle = compose(provider.middleware) as Koa.Middleware;

  const refresh = async () => {
    const next = await load();
    if (next.fingerprint === keySet.fingerprint) return false;
    provider = build(next.jwks);
    handle = compose(provider.middleware) as Koa.Middleware;
    keySet = next;
    log.info({ keys: next.fingerprint }, 'signing keys changed: provider rebuilt');
    return true;
  };

  const timer = setInterval(() => {
    refresh().catch((error) => log.error({ err: error }, 'could not reload signing keys'));
  }, refreshIntervalSeconds * 1000);
  timer.unref();

  return {
    current: () => provider,
    middleware: (ctx, next) => handle(ctx, next),
    refresh,
    stop: () => clearInterval(timer),
  };
}
