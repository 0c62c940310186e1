// The login step: e-mail and password. Unknown e-mail, wrong password and disabled account get
// the same page, status and timing (see accounts/users.ts#authenticate). Failed attempts slow
// the account down and count against the person's address (http/rate-limits.ts).
import type Koa from 'koa';
import { z } from 'zod';
import type { InteractionDeps, InteractionState } from './interaction.ts';
import { finishInteraction, showCurrentStep, upstreamButtons } from './interaction.ts';
import { emailKey } from '../accounts/users.ts';
import { clientNetwork } from '../http/client-network.ts';

const loginForm = z.object({
  csrf: z.string(),
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(4096),
});

// What went wrong on the way back from an upstream provider (federated.ts), as shown here.
const UPSTREAM_MESSAGES = {
  cancelled: 'federation.cancelled',
  failed: 'federation.failed',
  domain: 'federation.domain',
  'unverified-email': 'federation.unverified-email',
  disabled: 'federation.failed',
  'no-email': 'federation.failed',
} as const;

export function showLogin(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    const { details } = ctx.state.interaction as InteractionState;
    const hint = details.params.login_hint;
    const upstream = String(ctx.query.upstream) as keyof typeof UPSTREAM_MESSAGES;
    // Own keys only: `in` would also match "constructor", "toString"… (a 500).
    const error = Object.hasOwn(UPSTREAM_MESSAGES, upstream) ? ctx.state.t(UPSTREAM_MESSAGES[upstream], { provider: [...deps.connectors.values()][0]?.displayName ?? '' }) : undefined;
    renderLogin(ctx, deps, { email: typeof hint === 'string' ? hint.slice(0, 254) : '', error });
  };
}

export function submitLogin(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    const { details } = ctx.state.interaction as InteractionState;
    if (details.prompt.name !== 'login') return showCurrentStep(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    deps.csrf.verify(ctx, body.csrf);
    const form = loginForm.safeParse(body);
    const email = typeof body.email === 'string' ? body.email.trim().slice(0, 254) : '';
    if (!form.success) return renderLogin(ctx, deps, { email, error: ctx.state.t('login.invalid') }, 400);

    // An attempt is reserved before any password is checked: per address (credential
    // stuffing) and per account (guessing), the same for accounts that do not exist.
    const attempt = await deps.limits.attemptSignIn(clientNetwork(ctx.ip), emailKey(form.data.email));
    const user = await deps.users.authenticate(form.data.email, form.data.password);
    if (!user) return renderLogin(ctx, deps, { email, error: ctx.state.t('login.failed') }, 401);

    await attempt.succeeded();
    deps.csrf.renew(ctx);
    await finishInteraction(ctx, { login: { accountId: user.id, amr: ['pwd'] } });
  };
}

function renderLogin(ctx: Koa.Context, deps: InteractionDeps, model: { email: string; error?: string }, status = 200) {
  const { details, clientName } = ctx.state.interaction as InteractionState;
  deps.views.render(ctx, 'login', { ...model, uid: details.uid, clientName, upstreams: upstreamButtons(deps, details.uid), csrfToken: deps.csrf.token(ctx) }, status);
}
