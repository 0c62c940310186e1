// The endpoints relying apps and APIs call with a program, not a browser: discovery, the JWKS,
// token, introspection, revocation, pushed requests and userinfo (oidc-provider's default routes:
// provider.ts sets none). They answer JSON, so none of the pages' middleware runs for them
// (language, error pages, cross-site form checks: these endpoints accept posts from anywhere,
// oidc-provider applies CORS per client); only what the protocol needs does (app.ts).
import type Koa from 'koa';
import type { Logger } from '../log.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { answerOutageInOAuth } from './unavailable.ts';

export const PROTOCOL_ENDPOINTS: ReadonlySet<string> = new Set([
  '/.well-known/openid-configuration',
  '/jwks',
  '/token',
  '/token/introspection',
  '/token/revocation',
  '/request',
  '/me',
]);

/** `protocol` for those endpoints, `pages` for every other request. */
export function splitProtocolFromPages(protocol: Koa.Middleware, pages: Koa.Middleware): Koa.Middleware {
  return (ctx, next) => (PROTOCOL_ENDPOINTS.has(ctx.path) ? protocol(ctx, next) : pages(ctx, next));
}

/**
 * Errors on these endpoints in OAuth's shape (oidc-provider answers its own; this catches what
 * runs around it), and a method it does not serve answered as it answers an unknown route.
 */
export function protocolErrors(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'invalid_request', error_description: 'unrecognized route or not allowed method' };
      }
    } catch (error) {
      ctx.set('Cache-Control', 'no-store');
      if (isDatabaseUnavailable(error)) {
        log.info({ requestId: ctx.state.requestId, path: ctx.path, detail: (error as Error).message }, 'request refused: database unavailable');
        answerOutageInOAuth(ctx);
        return;
      }
      log.error({ err: error, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
    }
  };
}
