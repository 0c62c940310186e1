// The first middleware: gives each request an id (returned in X-Request-Id, shown on error pages
// as the reference people quote to support), then writes one JSON line for it at `info` and
// counts it in the metrics. The line names the route's template, never the path, query string
// or body, where codes, tokens and one-time links travel. Probes and scrapes log at `debug`.
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { clientIdOf } from './request-context.ts';

/** An id a proxy or load balancer already gave the request, kept when it is short and plain. */
const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Probes and scrapes (http/health.ts, http/metrics-endpoint.ts). */
export const OPERATIONS = new Set(['/healthz', '/readyz', '/metrics']);
const FIXED_PATHS = new Set([...OPERATIONS, '/language']);

/** A bounded name for what was asked: oidc-provider's route name, our router's template, or "other". */
export function routeOf(ctx: Koa.Context): string {
  const provider = (ctx as { oidc?: { route?: string } }).oidc?.route;
  if (provider) return provider;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (FIXED_PATHS.has(ctx.path)) return ctx.path;
  if (ctx.path.startsWith('/assets/') && ctx.status < 400) return '/assets';
  return 'other';
}

export function requestLog(log: Logger, metrics: Metrics): Koa.Middleware {
  // The line holds only the fields below, none of them secret-bearing: it skips the logger's
  // redaction, whose wildcard paths cost a tenth of a millisecond or more per line (src/log.ts).
  const lines = log.child({}, { redact: [] });
  return async (ctx, next) => {
    const started = performance.now();
    const incoming = ctx.get('x-request-id');
    // 48 random bits, as 12 hex digits: a v4 UUID's first 12 (randomUUID draws from a buffered pool, randomBytes does a syscall each time).
    const requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID().replace('-', '').slice(0, 12);
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    let status = 0;
    try {
      await next();
      status = ctx.status;
    } catch (error) {
      const escaped = error as { status?: number; headers?: Record<string, string> };
      status = escaped?.status ?? 500;
      // Koa's last-resort handler clears the headers, then sets the error's own.
      if (error instanceof Error) escaped.headers = { ...escaped.headers, 'X-Request-Id': requestId };
      throw error;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const route = routeOf(ctx);
      metrics.request(ctx.method, route, status, seconds);
      const level = OPERATIONS.has(route) ? 'debug' : 'info';
      if (lines.isLevelEnabled(level)) {
        lines[level]({ requestId, method: ctx.method, route, status, ms: Math.round(seconds * 10_000) / 10, clientId: clientIdOf(ctx) ?? undefined }, 'request');
      }
    }
  };
}
