// Failed client authentications at the token, introspection and revocation endpoints are counted
// per client id (when the request names it in its Authorization header) and per address; past
// the limit those endpoints answer 429 with Retry-After before checking anything. A 256-bit
// secret cannot be guessed: this is about noise, cost and alerting (checklist 35).
import type Koa from 'koa';
import type { RateLimiter, Limit } from './rate-limits.ts';
import { TooManyAttemptsError } from './rate-limits.ts';

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

export function clientAuthLimits(limits: RateLimiter): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !ENDPOINTS.has(ctx.path)) return next();
    const subjects = [`ip:${ctx.ip}`];
    const named = basicClientId(ctx.get('authorization'));
    if (named) subjects.push(`client:${named}`);
    try {
      for (const subject of subjects) await limits.check(CLIENT_AUTH_FAILURES, subject);
    } catch (error) {
      if (!(error instanceof TooManyAttemptsError)) throw error;
      ctx.status = 429;
      ctx.set('Retry-After', String(error.retryAfterSeconds));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'temporarily_unavailable', error_description: 'too many failed client authentications; try again later' };
      return;
    }
    await next();
    if (ctx.status !== 401) return;
    const clientId = (ctx as unknown as { oidc?: { client?: { clientId: string } } }).oidc?.client?.clientId;
    if (clientId && clientId !== named) subjects.push(`client:${clientId}`);
    for (const subject of subjects) await limits.hit(CLIENT_AUTH_FAILURES, subject).catch(() => {});
  };
}
