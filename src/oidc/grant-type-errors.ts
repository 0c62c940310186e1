// RFC 6749 §5.2: a client using a grant type it is not registered for is `unauthorized_client`.
// oidc-provider answers `invalid_request` there (lib/actions/token.js, allowedGrantTypeCheck):
// this puts the right code on that one answer, recognised by its cause, not by its wording.
import type Koa from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

export const unauthorizedGrantType: Koa.Middleware = async (ctx, next) => {
  await next();
  const { oidc } = ctx as unknown as KoaContextWithOIDC;
  const body = ctx.body as { error?: unknown } | undefined;
  if (oidc?.route !== 'token' || ctx.status !== 400 || body?.error !== 'invalid_request' || !oidc.client) return;
  const grantType = oidc.params?.grant_type;
  if (typeof grantType === 'string' && !oidc.client.grantTypeAllowed(grantType)) {
    ctx.body = { ...body, error: 'unauthorized_client' };
  }
};
