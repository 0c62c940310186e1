// Signing in to the account page, as a relying app: /account/sign-in sends the browser to
// Sésame's /auth (PKCE, state, nonce kept in a sealed cookie), /account/callback redeems the
// code and keeps who signed in, and sign-out is RP-initiated logout at /session/end.
import type Koa from 'koa';
import { z } from 'zod';
import { text } from '../interactions/guards.ts';
import type { PageContext } from '../interactions/guards.ts';
import { safeReturn } from './session.ts';
import type { AccountContext } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { ACCOUNT_CLIENT_ID } from './deps.ts';

export const signInQuery = z.object({ return: text, fresh: text });
/** Long enough for any session to be "recent" by it: asked only so the ID token has auth_time. */
const ANY_AGE = String(400 * 24 * 3600);
/** How long the account page's own session lasts at most; the Sésame session is checked on every request. */
const APP_SESSION_LIFETIME = 12 * 3600;

export function startSignIn(deps: AccountDeps) {
  return async (ctx: PageContext<unknown, z.infer<typeof signInQuery>>) => {
    const returnTo = safeReturn(ctx.state.query.return || '/account');
    const fresh = ctx.state.query.fresh === '1';
    const { url, ...checks } = await deps.rp.authorizationUrl({
      ui_locales: ctx.state.locale,
      // A change past ACCOUNT_REAUTH_AGE: the person signs in again whatever their session.
      ...(fresh ? { prompt: 'login', max_age: '0' } : { max_age: ANY_AGE }),
    });
    deps.cookies.startFlow(ctx, { ...checks, returnTo, fresh });
    ctx.status = 303;
    ctx.redirect(url);
  };
}

/** Where the sign-in could not finish: what happened, and a way on. */
function notSignedIn(ctx: Koa.Context, { views }: AccountDeps, message: string, returnTo = '/account') {
  const t = ctx.state.t;
  views.render(ctx, 'done', {
    heading: t('account.sign-in-failed-title'),
    message,
    links: [
      { href: `/account/sign-in?${new URLSearchParams({ return: returnTo })}`, text: t('account.sign-in-again') },
      { href: '/', text: t('error.home') },
    ],
  }, 400);
}

/**
 * The Sésame session a sign-in went through, named by the access token it gave (oidc-provider
 * keeps the session's uid with every token). Needed when the ID token carries no `sid`, which
 * oidc-provider adds only for apps registered for back-channel logout. The page never uses the
 * token otherwise: it is destroyed here.
 */
async function sessionOfToken(deps: AccountDeps, accessToken: string, sub: string): Promise<string | null> {
  const token = await deps.provider().AccessToken.find(accessToken);
  if (!token) return null;
  await token.destroy();
  return token.accountId === sub && token.clientId === ACCOUNT_CLIENT_ID && typeof token.sessionUid === 'string' ? token.sessionUid : null;
}

export function finishSignIn(deps: AccountDeps) {
  return async (ctx: Koa.Context) => {
    const flow = deps.cookies.takeFlow(ctx);
    if (!flow) return notSignedIn(ctx, deps, ctx.state.t('account.sign-in-expired'));
    if (typeof ctx.query.error === 'string') {
      deps.log.info({ requestId: ctx.state.requestId, error: ctx.query.error }, 'account page: sign-in did not complete');
      return notSignedIn(ctx, deps, ctx.state.t('account.sign-in-cancelled'), flow.returnTo);
    }
    let redeemed: Awaited<ReturnType<AccountDeps['rp']['redeem']>>;
    try {
      redeemed = await deps.rp.redeem(ctx.search, flow);
    } catch (error) {
      deps.log.warn({ requestId: ctx.state.requestId, problem: (error as Error).message }, 'account page: the code could not be redeemed');
      return notSignedIn(ctx, deps, ctx.state.t('account.sign-in-expired'), flow.returnTo);
    }
    const { claims, idToken } = redeemed;
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : 0;
    const sid = typeof claims.sid === 'string' ? claims.sid : undefined;
    const uid = sid ? await deps.rows.findSession(claims.sub, { clientId: ACCOUNT_CLIENT_ID, sid }) : await sessionOfToken(deps, redeemed.accessToken, claims.sub);
    // A sign-in asked again for a change must be a new one.
    if (!uid || (flow.fresh && authTime < flow.startedAt)) return notSignedIn(ctx, deps, ctx.state.t('account.sign-in-expired'), flow.returnTo);
    const amr = Array.isArray(claims.amr) ? claims.amr.filter((value): value is string => typeof value === 'string') : [];
    deps.cookies.save(ctx, { sub: claims.sub, sid, uid, authTime, amr, idToken, exp: Math.floor(Date.now() / 1000) + APP_SESSION_LIFETIME });
    ctx.status = 303;
    ctx.redirect(flow.returnTo);
  };
}

/** Out of the account page and of Sésame: RP-initiated logout, which asks the person to confirm. */
export function signOut(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const session = deps.cookies.read(ctx as unknown as Koa.Context);
    deps.cookies.clear(ctx as unknown as Koa.Context);
    ctx.status = 303;
    ctx.redirect(session ? await deps.rp.endSessionUrl(session.idToken) : '/');
  };
}
