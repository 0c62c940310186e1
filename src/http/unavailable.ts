// "Temporarily unavailable" while the database is down or too slow: a 503 with Retry-After, so
// people and apps try again instead of treating it as a failure of their request. Our own routes
// get it from the error pages (errors.ts); oidc-provider's endpoints through answerOutage below,
// and what fails around them through answerOutageInOAuth (protocol-endpoints.ts).
import type Koa from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Seconds a client is asked to wait before trying again. */
export const UNAVAILABLE_RETRY_AFTER = 5;

export const UNAVAILABLE_DESCRIPTION = 'the service is temporarily unavailable; try again shortly';

/**
 * oidc-provider answers any error it did not raise itself as a 500 `server_error`, and only then
 * emits `server_error`: a database outage behind it becomes a 503 in the same OAuth shape (the
 * page it rendered for a person, see provider.ts, keeps its body).
 */
export function answerOutage(ctx: KoaContextWithOIDC): void {
  const body = ctx.body as { error?: string } | undefined;
  if (body && typeof body === 'object' && body.error === 'server_error') return answerOutageInOAuth(ctx);
  markOutage(ctx);
}

/** A 503 `server_error` in OAuth's JSON shape, with Retry-After. */
export function answerOutageInOAuth(ctx: Koa.Context): void {
  markOutage(ctx);
  ctx.body = { error: 'server_error', error_description: UNAVAILABLE_DESCRIPTION };
}

function markOutage(ctx: Koa.Context): void {
  ctx.status = 503;
  ctx.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER));
  ctx.set('Cache-Control', 'no-store');
}
