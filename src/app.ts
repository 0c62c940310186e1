// Composes the Koa app: request ids and logs, health and metrics, security headers, then two
// branches. The endpoints apps call (token, userinfo, discovery, JWKS…) go through the parameter
// check and the client-authentication limits straight to oidc-provider; every other request gets
// language, error pages, the edge's refusals (cross-site forms, malformed parameters), our routes
// (assets, hosted pages), then oidc-provider for the protocol pages.
import Koa from 'koa';
import Router from '@koa/router';
import compose from 'koa-compose';
import type { Logger } from './log.ts';
import type { Views } from './http/views.ts';
import { securityHeaders } from './http/security-headers.ts';
import { errorPages } from './http/errors.ts';
import { OPERATIONS, requestLog } from './http/request-log.ts';
import { healthEndpoints } from './http/health.ts';
import type { HealthDeps } from './http/health.ts';
import { metricsEndpoint } from './http/metrics-endpoint.ts';
import { staticAnswers } from './http/static-answers.ts';
import type { Metrics } from './observability/metrics.ts';
import { registerInteractionRoutes } from './interactions/index.ts';
import { registerUsersFeedRoutes } from './api/users-feed.ts';
import { registerAccountRoutes } from './account/index.ts';
import type { AccountDeps } from './account/index.ts';
import type { UserChanges } from './accounts/user-changes.ts';
import type { ClientRegistry } from './clients/registry.ts';
import type { InteractionDeps } from './interactions/index.ts';
import type { ProviderHost } from './oidc/host.ts';
import { requestScope } from './http/request-context.ts';
import { writeBeforeAnswer } from './db/request-memo.ts';
import { readResumeTogether } from './oidc/resume-reads.ts';
import { protocolErrors, splitProtocolFromPages } from './http/protocol-endpoints.ts';
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
  /** What /readyz checks besides `lifecycle` (http/health.ts). */
  readiness: Omit<HealthDeps, 'lifecycle' | 'log'>;
  metrics: Metrics;
  /** /metrics asks for it as a bearer token, when set. */
  metricsToken?: string;
  clients: ClientRegistry;
  userChanges: UserChanges;
  /** The account page's own parts (src/account). */
  account: Pick<AccountDeps, 'rows' | 'rp' | 'cookies' | 'reauthAge' | 'geoipDatabase' | 'passwords'>;
}

/**
 * Every URL Sésame builds (oidc-provider's discovery and redirects included, which derive from
 * the request) names the ISSUER's host, whatever Host or X-Forwarded-Host a request carried:
 * one issuer, and no host-header poisoning of discovery or links.
 */
function pinHostToIssuer(host: string): Koa.Middleware {
  return (ctx, next) => {
    ctx.req.headers.host = host;
    delete ctx.req.headers['x-forwarded-host'];
    return next();
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

  // Every request: an id, one log line, its metrics (http/request-log.ts).
  app.use(requestLog(log, deps.metrics));
  // Probes and scrapes are answered at once, before any page or provider middleware.
  app.use(healthEndpoints({ lifecycle: deps.lifecycle, log, ...deps.readiness }));
  app.use(metricsEndpoint(deps.metrics, deps.metricsToken));
  // Discovery and the JWKS replayed until the provider is rebuilt (http/static-answers.ts).
  app.use(staticAnswers(host.current));
  // One scope per request: its memo of reads, and who is asking for the audit trail (http/request-context.ts).
  app.use(requestScope);
  app.use(pinHostToIssuer(new URL(deps.issuer).host));
  app.use(securityHeaders({ https: deps.issuer.startsWith('https:') }));
  if (deps.issuer.startsWith('https:')) app.use(warnOnceIfPlainHttp(log, deps.trustProxy));

  // No parameter a database cannot store (http/request-parameters.ts), on every request.
  const parameters = checkRequestParameters({ views, log });
  // What apps call (token, userinfo, discovery…): none of the pages' middleware (http/protocol-endpoints.ts).
  // The tokens a request mints are written together just before its answer (db/request-memo.ts).
  const protocol = compose([protocolErrors(log), writeBeforeAnswer, parameters, clientAuthLimits(deps.limits, deps.audit), host.middleware]);

  const router = new Router();
  // Answered at the top for GET and HEAD; known here too, so that another method gets the 405 page with Allow.
  router.get([...OPERATIONS], () => {});
  registerInteractionRoutes(router, { ...deps, provider: host.current });
  registerAccountRoutes(router, { ...deps, ...deps.account, provider: host.current });
  registerUsersFeedRoutes(router, { provider: host.current, clients: deps.clients, changes: deps.userChanges, log, issuer: deps.issuer });
  const pages = compose([
    views.middleware,
    errorPages(log, views, deps.audit),
    // oidc-provider's saves and deletes of a page request are made together before its answer
    // (db/request-memo.ts); one that fails answers the error page, not the redirect.
    writeBeforeAnswer,
    // Before anything reads a parameter: no form from another site (http/same-origin-posts.ts).
    refuseCrossSitePosts(deps.issuer),
    parameters,
    views.assets,
    router.routes(),
    router.allowedMethods(),
    brandedFormPosts(views),
    signedOutPageNamesTheApp(),
    readResumeTogether(host.current),
    host.middleware,
  ]);
  app.use(splitProtocolFromPages(protocol as Koa.Middleware, pages as Koa.Middleware));
  return app;
}
