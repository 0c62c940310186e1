/*
 * The account page: Sésame's own first-party app (client `sesame-account`), where a person sees
 * and changes their account. It signs in like any relying app, through Sésame's /auth:
 *
 *   GET /account                 → no account-page session: /account/sign-in?return=/account
 *   GET /account/sign-in         → /auth (PKCE, state, nonce; prompt=login when a change needs
 *                                  a recent sign-in)                             (sign-in.ts)
 *   GET /account/callback        → the code redeemed with openid-client; a sealed cookie keeps
 *                                  who signed in and through which Sésame session; back to `return`
 *   every page                   → that Sésame session must still exist: signed out anywhere
 *                                  (another app, the sessions page, "sign out everywhere") is
 *                                  signed out here                               (session.ts)
 *   POST (a change)              → CSRF, a sign-in younger than ACCOUNT_REAUTH_AGE (else /auth
 *                                  with prompt=login, then back to the page, which asks for the
 *                                  change again), the form through its schema, audited, a notice
 *                                  e-mailed for security changes
 *   POST /account/sign-out       → RP-initiated logout at /session/end with id_token_hint
 *
 * Linking Google runs the connector's own round trip, back through
 * /interaction/:uid/account-link/:provider/callback (where its state cookie lives) to a
 * confirmation posted to /account/linked/:provider/finish (linked.ts).
 *
 * The pages behind e-mailed links under /account (verify, reset, link, forgot) belong to the
 * sign-in pages (src/interactions/email-links.ts); the new address's confirmation is here
 * (email.ts) and works from any browser, signed in or not.
 */
import type Router from '@koa/router';
import type Koa from 'koa';
import { form, query, verifyCsrf } from '../interactions/guards.ts';
import type { AccountDeps } from './deps.ts';
import { requireAccount, requireRecentSignIn } from './session.ts';
import { finishSignIn, signInQuery, signOut, startSignIn } from './sign-in.ts';
import { namesForm, showNames, showOverview, submitNames } from './profile.ts';
import { confirmForm, confirmQuery, emailForm, showConfirmEmail, showEmail, submitConfirmEmail, submitEmail } from './email.ts';
import { passwordForm, showPassword, submitPassword } from './password.ts';
import { finishLink, finishLinkForm, returnFromUpstream, showLinked, startLink, unlink } from './linked.ts';
import { beginTotp, confirmTotp, createRecoveryCodes, removeTotp, showSecurity, totpCodeForm } from './security.ts';
import { endEverywhere, endOneSession, endOtherSessions, showSessions } from './sessions.ts';
import { revokeApp, showApps } from './apps.ts';
import { createLocator } from './devices.ts';
import { registerAccountPasskeyRoutes } from './passkeys.ts';

export type { AccountDeps };

/** What account routes put before their handler; B's passkey routes take them too. */
export interface AccountGuards {
  account: Koa.Middleware;
  recent: Koa.Middleware;
  csrf: Koa.Middleware;
}

/** The confirmation link's pages send no path in any Referer (the token is in it): as email-links.ts. */
const noReferrer: Koa.Middleware = async (ctx, next) => {
  ctx.set('Referrer-Policy', 'strict-origin');
  await next();
};

type Handler = (ctx: never) => unknown;
const route = (handler: Handler) => handler as unknown as Koa.Middleware;

export function registerAccountRoutes(router: Router, deps: AccountDeps): AccountGuards {
  const account = requireAccount(deps) as unknown as Koa.Middleware;
  const recent = requireRecentSignIn(deps) as unknown as Koa.Middleware;
  const csrf = verifyCsrf(deps.csrf);
  const change = [csrf, account, recent];
  const locate = createLocator(deps.geoipDatabase, deps.log);

  //          path                               checks             body or query             handler
  router.get('/account/sign-in',                                     query(signInQuery),       route(startSignIn(deps)));
  router.get('/account/callback',                                                              route(finishSignIn(deps)));
  router.post('/account/sign-out',               csrf, account,                                route(signOut(deps)));
  router.get('/account',                         account,                                      route(showOverview(deps)));
  router.get('/account/names',                   account,                                      route(showNames(deps)));
  router.post('/account/names',                  ...change,         form(namesForm),          route(submitNames(deps)));
  router.get('/account/email',                   account,                                      route(showEmail(deps)));
  router.post('/account/email',                  ...change,         form(emailForm),          route(submitEmail(deps)));
  router.get('/account/email/confirm',           noReferrer,        query(confirmQuery),      route(showConfirmEmail(deps)));
  router.post('/account/email/confirm',          noReferrer, csrf,  form(confirmForm),        route(submitConfirmEmail(deps)));
  router.get('/account/password',                account,                                      route(showPassword(deps)));
  router.post('/account/password',               ...change,         form(passwordForm),       route(submitPassword(deps)));
  router.get('/account/linked',                  account,                                      route(showLinked(deps)));
  router.post('/account/linked/:provider/link',  ...change,                                    route(startLink(deps)));
  router.get(`/interaction/:uid/account-link/:provider/callback`,                              route(returnFromUpstream(deps)));
  router.post('/account/linked/:provider/finish', ...change,        form(finishLinkForm),     route(finishLink(deps)));
  router.post('/account/linked/:provider/unlink', ...change,                                   route(unlink(deps)));
  router.get('/account/security',                account,                                      route(showSecurity(deps)));
  router.post('/account/security/totp/begin',    ...change,                                    route(beginTotp(deps)));
  router.post('/account/security/totp/confirm',  ...change,         form(totpCodeForm),       route(confirmTotp(deps)));
  router.post('/account/security/totp/remove',   ...change,                                    route(removeTotp(deps)));
  router.post('/account/security/recovery-codes', ...change,                                   route(createRecoveryCodes(deps)));
  router.get('/account/sessions',                account,                                      route(showSessions(deps, locate)));
  router.post('/account/sessions/end-others',    ...change,                                    route(endOtherSessions(deps)));
  router.post('/account/sessions/end-everywhere', ...change,                                   route(endEverywhere(deps)));
  router.post('/account/sessions/:uid/end',      ...change,                                    route(endOneSession(deps)));
  router.get('/account/apps',                    account,                                      route(showApps(deps)));
  router.post('/account/apps/:clientId/revoke',  ...change,                                    route(revokeApp(deps)));

  registerAccountPasskeyRoutes(router, deps, { account, recent, csrf });

  return { account, recent, csrf };
}
