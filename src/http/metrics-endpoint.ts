// GET /metrics in Prometheus's text format (src/observability/metrics.ts). With METRICS_TOKEN set,
// only a scraper that sends `Authorization: Bearer <token>` reads it: the numbers tell how busy
// the service is and which limits are hit, nothing for the public.
import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type { Metrics } from '../observability/metrics.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests, so that neither the length nor the content of the token leaks through timing. */
function bearerMatches(header: string, token: Buffer): boolean {
  const [scheme, presented] = header.split(' ');
  return scheme?.toLowerCase() === 'bearer' && presented !== undefined && timingSafeEqual(digest(presented), token);
}

export function metricsEndpoint(metrics: Metrics, token: string | undefined): Koa.Middleware {
  const expected = token === undefined ? undefined : digest(token);
  const scrape = async (ctx: Koa.Context) => {
    ctx.set('Cache-Control', 'no-store');
    if (expected && !bearerMatches(ctx.get('authorization'), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = 'Unauthorized\n';
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
  // Not async: every other request passes straight through, without a promise of its own.
  return (ctx, next) => (ctx.path === '/metrics' && (ctx.method === 'GET' || ctx.method === 'HEAD') ? scrape(ctx) : next());
}
