// Signing in through an upstream identity provider (Google), as one login step:
//   POST /interaction/:uid/federated/:provider            → 303 to the provider
//   GET  /interaction/callback/:provider                  the provider's fixed callback: bounces
//                                                         back under /interaction/:uid so the
//                                                         interaction cookie comes along
//   GET  /interaction/:uid/federated/:provider/callback   → login, or the linking page
//   POST /interaction/:uid/link-account                   prove the existing account (password),
//                                                         or have a confirmation link e-mailed
// Both end in the sign-in service (accounts/sign-in.ts) and then sign-in-result.ts, which asks
// for a second factor when one is needed, as after a password.
// A cancelled, failed, tampered or replayed round trip returns to the login page with a plain
// message (?upstream=…); the rules for accounts are in accounts/federated-accounts.ts.
import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { continueSignIn } from './sign-in-result.ts';
import { form, requirePrompt, text } from './guards.ts';
import type { StepContext, StepPage } from './guards.ts';
import { UpstreamError } from '../federation/index.ts';
import { interactionOfState } from '../federation/state.ts';
import { AppError } from '../http/errors.ts';
import { LIMITS } from '../http/rate-limits.ts';
import { emailKey } from '../accounts/users.ts';
import { clientNetwork } from '../http/client-network.ts';
import { LINK_ACCOUNT_TTL } from '../accounts/self-service.ts';
import { ACCOUNT_LINK_PREFIX } from '../account/deps.ts';

type Middleware = Koa.Middleware;

const linkAccountForm = z.object({ pending: text, action: text, password: text });

function connectorOf(ctx: { params: Record<string, string> }, { connectors }: InteractionDeps) {
  const connector = connectors.get(ctx.params.provider);
  if (!connector) throw new AppError('not_found', `no upstream provider ${ctx.params.provider}`);
  return connector;
}

function backToLogin(ctx: StepPage, problem: string) {
  const { details } = ctx.state.interaction;
  ctx.status = 303;
  ctx.redirect(`/interaction/${details.uid}?upstream=${problem}`);
}

function renderLink(ctx: StepPage, { views, csrf }: InteractionDeps, model: { sealed: string; email: string; provider: string; error?: string }, status = 200) {
  const { details } = ctx.state.interaction;
  views.render(ctx, 'link-account', { ...model, uid: details.uid, csrfToken: csrf.token(ctx) }, status);
}

export function registerFederatedRoutes(router: Router, deps: InteractionDeps, { load, csrf }: { load: Middleware; csrf: Middleware }): void {
  // Without an upstream provider these paths do not exist (404), rather than answer 405 or "expired".
  if (!deps.connectors.size) return;
  router.post('/interaction/:uid/federated/:provider', load, csrf, requirePrompt('login'), async (ctx: StepContext) => {
    const connector = connectorOf(ctx, deps);
    const { details } = ctx.state.interaction;
    ctx.status = 303;
    ctx.redirect(await connector.begin(ctx, details.uid));
  });

  router.get('/interaction/callback/:provider', async (ctx) => {
    connectorOf(ctx, deps);
    const uid = interactionOfState(ctx.query.state);
    if (!uid) throw new AppError('expired', 'upstream callback without a usable state');
    ctx.status = 303;
    // A link started from the account page comes back to its own route (src/account/linked.ts).
    const step = uid.startsWith(ACCOUNT_LINK_PREFIX) ? 'account-link' : 'federated';
    ctx.redirect(`/interaction/${uid}/${step}/${ctx.params.provider}/callback${ctx.querystring ? `?${ctx.querystring}` : ''}`);
  });

  router.get('/interaction/:uid/federated/:provider/callback', load, requirePrompt('login'), async (ctx: StepContext) => {
    const connector = connectorOf(ctx, deps);
    const { details } = ctx.state.interaction;
    let identity;
    try {
      identity = await connector.complete(ctx, details.uid);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      deps.log.info({ requestId: ctx.state.requestId, provider: connector.id, problem: error.problem, detail: error.message }, 'upstream sign-in did not complete');
      deps.audit.record({ action: 'sign-in.failed', target: connector.id, details: { method: connector.id, reason: error.problem } });
      return backToLogin(ctx, error.problem);
    }
    const outcome = await deps.signIn.federated(identity, connector.allowedDomains);
    if (outcome.kind === 'refused') return backToLogin(ctx, outcome.reason);
    if (outcome.kind === 'needs-proof') {
      return renderLink(ctx, deps, { sealed: deps.pendingLinks.seal(identity, outcome.user.id, details.uid), email: outcome.user.email, provider: connector.displayName });
    }
    if (outcome.reclaimed) deps.log.warn({ userId: outcome.userId, provider: connector.id }, 'an unverified account was reclaimed by the verified owner of its address');
    await continueSignIn(ctx, deps, outcome);
  });

  router.post('/interaction/:uid/link-account', load, csrf, requirePrompt('login'), form(linkAccountForm), async (ctx: StepContext<z.infer<typeof linkAccountForm>>) => {
    const { details } = ctx.state.interaction;
    const { pending: sealed, action, password } = ctx.state.form;
    const pending = deps.pendingLinks.open(sealed, details.uid);
    const user = pending ? await deps.users.findById(pending.userId) : null;
    if (!pending || !user || user.disabledAt) return backToLogin(ctx, 'failed');
    const provider = deps.connectors.get(pending.identity.provider)?.displayName ?? pending.identity.provider;

    if (action === 'email') {
      await deps.limits.hitAll([LIMITS.resendPerIp, clientNetwork(ctx.ip)], [LIMITS.resendPerAccount, user.id]);
      await deps.selfService.sendLinkConfirmation(user, pending.identity, provider, { locale: ctx.state.locale, interactionUid: details.uid });
      const message = ctx.state.t('linking.sent', { email: user.email, provider });
      return deps.views.render(ctx, 'check-inbox', { message, lifetime: ctx.state.t.duration(LINK_ACCOUNT_TTL), backLink: `/interaction/${details.uid}` });
    }

    // Proof by password, through the sign-in service like the login form (same limits, device cookie included).
    const account = emailKey(user.email);
    const proof = await deps.signIn.password({ email: user.email, password, network: clientNetwork(ctx.ip), device: deps.devices.recognise(ctx, account) });
    if (proof.kind !== 'signed-in' || proof.userId !== user.id) {
      return renderLink(ctx, deps, { sealed, email: user.email, provider, error: ctx.state.t('login.failed') }, 401);
    }
    deps.devices.remember(ctx, account);
    if (!(await deps.federated.linkProven(user.id, pending.identity))) return backToLogin(ctx, 'failed');
    await continueSignIn(ctx, deps, { userId: user.id, amr: [...proof.amr, 'fed'] });
  });
}
