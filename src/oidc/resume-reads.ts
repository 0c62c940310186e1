// The return to oidc-provider after a page (GET /auth/:uid, the "resume") reads the browser's
// session, then the sign-in's interaction: two round trips one after the other. Asked for together
// first, they are one statement (the adapter's finds of one tick, oidc/adapter.ts), and oidc-provider
// finds both in the request's memo. Only reads: what oidc-provider checks, it still checks.
import type Koa from 'koa';
import type Provider from 'oidc-provider';

const RESUME = /^\/auth\/([^/]+)$/;

export function readResumeTogether(provider: () => Provider): Koa.Middleware {
  return async (ctx, next) => {
    const uid = ctx.method === 'GET' ? RESUME.exec(ctx.path)?.[1] : undefined;
    if (!uid) return next();
    const current = provider();
    const sessionId = ctx.cookies.get(current.cookieName('session'), { signed: true });
    // Without a session there is one read anyway. A failure here is met again by oidc-provider's own read.
    if (sessionId) await Promise.allSettled([current.Session.find(sessionId), current.Interaction.find(uid)]);
    return next();
  };
}
