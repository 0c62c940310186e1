// Every form a browser posts to Sésame — ours and oidc-provider's sign-out confirmation — must
// come from a page of Sésame itself: a POST that says it comes from another site is refused with
// a 403 page before anything reads it. The CSRF tokens (csrf.ts, oidc-provider's xsrf) stay the
// first defence; this one holds even where a token is missing or leaked.
//
// Only the endpoints that relying apps post to from their own origin are exempt: the
// authorization request (OIDC Core §3.1.2.1 allows POST), RP-initiated logout (OIDC
// RP-Initiated Logout §2 likewise; oidc-provider serves these two POSTs only with
// enableHttpPostMethods, off in Sésame) and the back-channel endpoints (token, introspection,
// revocation, pushed requests, userinfo), where oidc-provider applies CORS per client.
//
// `Origin: null` is refused too. Browsers send it from sandboxed frames and data: URLs, which
// anyone can make; our own pages send their real origin (Referrer-Policy same-origin, or
// strict-origin on the pages behind e-mailed links: no-referrer would make it null). Fetch
// Metadata (`Sec-Fetch-Site`) covers browsers that send no Origin.
import type Koa from 'koa';
import { AppError } from './errors.ts';

const CROSS_ORIGIN_ALLOWED = new Set(['/auth', '/session/end', '/token', '/token/introspection', '/token/revocation', '/request', '/me']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function refuseCrossSitePosts(issuer: string): Koa.Middleware {
  const ownOrigin = new URL(issuer).origin;
  return async (ctx, next) => {
    if (SAFE_METHODS.has(ctx.method) || CROSS_ORIGIN_ALLOWED.has(ctx.path)) return next();
    const origin = ctx.get('Origin');
    const site = ctx.get('Sec-Fetch-Site');
    if (origin && origin !== ownOrigin) throw new AppError('forbidden', `form posted from another origin (${origin.slice(0, 100)})`);
    if (site === 'cross-site' || site === 'same-site') throw new AppError('forbidden', `form posted from a ${site} page`);
    await next();
  };
}
