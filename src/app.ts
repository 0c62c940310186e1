// Composes the Koa app: request ids and logs, security headers, language, error pages, the
// edge's refusals (cross-site forms, malformed parameters), our routes (assets, health, hosted
// pages), then oidc-provider for every protocol endpoint.
import Koa from 'koa';
import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import type { Logger } from './log.ts';
import type { Views } from './http/views.ts';
import { securityHeaders } from './http/security-headers.ts';
import { errorPages } from './http/errors.ts';
import { registerInteractionRoutes } from './interactions/index.ts';
import { registerUsersFeedRoutes } from './api/users-feed.ts';
import type { UserChanges } from './accounts/user-changes.ts';
import type { ClientRegistry } from './clients/registry.ts';
import type { InteractionDeps } from './interactions/index.ts';
import type { ProviderHost } from './oidc/host.ts';
import { requestMemoScope } from './db/request-memo.ts';
import { requestContextScope } from './http/request-context.ts';
import { clientAuthLimits } from './http/client-auth-limits.ts';
import { brandedFormPosts, signedOutPageNamesTheApp } from './interactions/provider-pages.ts';
import { refuseCrossSitePosts } from './http/same-origin-posts.ts';
import { checkRequestParameters } from './http/request-parameters.ts';

export interface AppDeps extends Omit<InteractionDeps, 'provider'> {
  issuer: string;
  trustProxy: boolean;
  /** The cookie keys now: they rotate (src/oidc/secrets.ts). */
  cookieKeys(): string[];
  log: Logger;
  views: Views;
  host: ProviderHost;
  /** `draining` after SIGTERM: not ready for new traffic (src/main.ts). */
  lifecycle: { readonly draining: boolean };
  /** Answers whether the database is reachable, for /healthz. */
  healthy(): Promise<boolean>;
  clients: ClientRegistry;
  userChanges: UserChanges;
}

/**
 * Every URL Sésame builds (oidc-provider's discovery and redirects included, which derive from
 * the request) names the ISSUER's host, whatever Host or X-Forwarded-Host a request carried:
 * one issuer, and no host-header poisoning of discovery or links.
 */
function pinHostToIssuer(host: string): Koa.Middleware {
  return async (ctx, next) => {
    ctx.req.headers.host = host;
    delete ctx.req.headers['x-forwarded-host'];
    await next();
  };
}

/** An https ISSUER reached over plain http: cookies lose Secure. Almost always a proxy setting. */
function warnOnceIfPlainHttp(log: Logger, trustProxy: boolean): Koa.Middleware {
  let warned = false;
  return async (ctx, next) => {
    if (!ctx.secure && !warned) {
      warned = true;
      log.warn(
        { path: ctx.path, trustProxy },
        trustProxy
          ? 'ISSUER is https but a request arrived as plain http: the proxy must send X-Forwarded-Proto: https'
          : 'ISSUER is https but a request arrived as plain http: behind a TLS-terminating proxy, set TRUST_PROXY=true',
      );
    }
    await next();
  };
}

export function createApp(deps: AppDeps): Koa {
  const { log, views, host } = deps;
  // Behind a proxy, trust only the address it appended to X-Forwarded-For (the rightmost):
  // anything to its left came from the client.
  const app = new Koa({ proxy: deps.trustProxy, maxIpsCount: deps.trustProxy ? 1 : 0 });
  // Read on every request (Koa hands app.keys to each request's cookies), so a rotation applies at once.
  Object.defineProperty(app, 'keys', { get: deps.cookieKeys, enumerable: true });
  app.silent = true;

  app.use(requestMemoScope);
  // Who is asking, for the audit trail (http/request-context.ts).
  app.use(requestContextScope);
  app.use(pinHostToIssuer(new URL(deps.issuer).host));
  app.use(async (ctx, next) => {
    ctx.state.requestId = randomBytes(6).toString('hex');
    const started = performance.now();
    try {
      await next();
    } finally {
      log.debug({ requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
    }
  });
  app.use(securityHeaders({ https: deps.issuer.startsWith('https:') }));
  if (deps.issuer.startsWith('https:')) app.use(warnOnceIfPlainHttp(log, deps.trustProxy));
  app.use(views.middleware);
  app.use(errorPages(log, views, deps.audit));
  // Before anything reads a parameter: no form from another site, no parameter a database
  // cannot store (http/same-origin-posts.ts, http/request-parameters.ts).
  app.use(refuseCrossSitePosts(deps.issuer));
  app.use(checkRequestParameters({ views, log }));
  app.use(views.assets);

  const router = new Router();
  router.get('/healthz', async (ctx) => {
    const ok = await deps.healthy().catch(() => false);
    ctx.status = ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: ok ? 'ok' : 'unavailable' };
  });
  registerInteractionRoutes(router, { ...deps, provider: host.current });
  registerUsersFeedRoutes(router, { provider: host.current, clients: deps.clients, changes: deps.userChanges, log, issuer: deps.issuer });
  app.use(router.routes());
  app.use(router.allowedMethods());

  app.use(clientAuthLimits(deps.limits, deps.audit));
  app.use(brandedFormPosts(views));
  app.use(signedOutPageNamesTheApp());
  app.use(host.middleware);
  return app;
}
