// Failed client authentications at the token, introspection and revocation endpoints are counted
// per client id and per address (an IPv6 /64); past the limit, further failures are answered 429 with
// Retry-After instead of 401. Requests with the right credentials are never held back, so
// knowing a client id is not enough to lock its app out, and they cost no extra database work.
// A 256-bit secret cannot be guessed: this is about noise, cost and alerting (checklist 35).
import type Koa from 'koa';
import type { RateLimiter, Limit } from './rate-limits.ts';
import { TooManyAttemptsError } from './rate-limits.ts';
import { clientNetwork } from './client-network.ts';
import type { AuditTrail } from '../audit/trail.ts';
import { recordRateLimitRefusal } from '../audit/refusals.ts';

export const CLIENT_AUTH_FAILURES: Limit = { name: 'client-auth', max: 20, windowSeconds: 5 * 60 };

const ENDPOINTS = new Set(['/token', '/token/introspection', '/token/revocation', '/request']);

function basicClientId(header: string): string | undefined {
  const [scheme, value] = header.split(' ');
  if (scheme?.toLowerCase() !== 'basic' || !value) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon)).slice(0, 200);
  } catch {
    return undefined;
  }
}

export function clientAuthLimits(limits: RateLimiter, audit: AuditTrail): Koa.Middleware {
  const afterFailure = async (ctx: Koa.Context, next: Koa.Next) => {
    await next();
    if (ctx.status !== 401) return;
    const subjects = new Set([`ip:${clientNetwork(ctx.ip)}`]);
    const named = basicClientId(ctx.get('authorization'));
    const found = (ctx as unknown as { oidc?: { client?: { clientId: string } } }).oidc?.client?.clientId;
    for (const clientId of [named, found]) if (clientId) subjects.add(`client:${clientId}`);
    let retryAfter = 0;
    for (const subject of subjects) {
      await limits.hit(CLIENT_AUTH_FAILURES, subject).catch((error: unknown) => {
        if (!(error instanceof TooManyAttemptsError)) throw error;
        retryAfter = Math.max(retryAfter, error.retryAfterSeconds);
      });
    }
    if (!retryAfter) return;
    recordRateLimitRefusal(audit, ctx, retryAfter, { limit: CLIENT_AUTH_FAILURES.name, target: named ?? found ?? clientNetwork(ctx.ip), clientId: named ?? found });
    ctx.status = 429;
    ctx.remove('WWW-Authenticate');
    ctx.set('Retry-After', String(retryAfter));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'temporarily_unavailable', error_description: 'too many failed client authentications; try again later' };
  };
  return (ctx, next) => (ctx.method === 'POST' && ENDPOINTS.has(ctx.path) ? afterFailure(ctx, next) : next());
}
