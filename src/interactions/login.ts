// The login step: e-mail and password (or a passkey, passkey.ts; or Google, federated.ts), then
// a second factor when one is needed (second-factor.ts: while a first factor waits, this step's
// page is the second-factor page). The password is checked by the sign-in service
// (accounts/sign-in.ts): unknown e-mail, wrong password and disabled account get the same page,
// status and timing; failed attempts slow the account down and count against the person's
// address. A browser that signs in gets a device cookie, which spares it the account's slow-down
// next time.
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { upstreamButtons } from './interaction.ts';
import { text } from './guards.ts';
import type { StepContext, StepPage } from './guards.ts';
import { field } from '../http/forms.ts';
import { emailKey } from '../accounts/users.ts';
import { clientNetwork } from '../http/client-network.ts';
import { continueSignIn, pendingSecondFactor } from './sign-in-result.ts';
import { renderSecondFactor } from './second-factor.ts';

export const loginForm = z.object({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(4096),
});
/** The current step's page (GET /interaction/:uid): why the way back from upstream failed. */
export const stepQuery = z.object({ upstream: text, factor: text });

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
  return async (ctx: StepContext<unknown, z.infer<typeof stepQuery>>) => {
    if (await pendingSecondFactor(ctx)) return renderSecondFactor(ctx, deps, { method: ctx.state.query.factor });
    const { details } = ctx.state.interaction;
    const hint = details.params.login_hint;
    const upstream = ctx.state.query.upstream as keyof typeof UPSTREAM_MESSAGES;
    // Own keys only: `in` would also match "constructor", "toString"… (a 500).
    const error = Object.hasOwn(UPSTREAM_MESSAGES, upstream) ? ctx.state.t(UPSTREAM_MESSAGES[upstream], { provider: [...deps.connectors.values()][0]?.displayName ?? '' }) : undefined;
    renderLogin(ctx, deps, { email: typeof hint === 'string' ? hint.slice(0, 254) : '', error });
  };
}

export function submitLogin(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof loginForm>>) => {
    const { email, password } = ctx.state.form;
    // The limits' slots are reserved before any password is checked (per address, and per
    // account or per device cookie): the same for accounts that do not exist.
    const account = emailKey(email);
    const outcome = await deps.signIn.password({ email, password, network: clientNetwork(ctx.ip), device: deps.devices.recognise(ctx, account) });
    if (outcome.kind === 'refused') return renderLogin(ctx, deps, { email, error: ctx.state.t('login.failed') }, 401);
    deps.devices.remember(ctx, account);
    await continueSignIn(ctx, deps, outcome);
  };
}

/** A form without an address or a password shows itself again, the address kept. */
export function invalidLogin(deps: InteractionDeps) {
  return (ctx: StepPage) => renderLogin(ctx, deps, { email: field(ctx, 'email').trim().slice(0, 254), error: ctx.state.t('login.invalid') }, 400);
}

export function renderLogin(ctx: StepPage, deps: InteractionDeps, model: { email: string; error?: string }, status = 200) {
  const { details, clientName } = ctx.state.interaction;
  // The passkey form's options are in the page: their challenge is signed, not stored (accounts/webauthn-challenges.ts).
  const passkeyOptions = deps.passkeys.signInOptions(details.uid);
  deps.views.render(ctx, 'login', { ...model, uid: details.uid, clientName, upstreams: upstreamButtons(deps, details.uid), csrfToken: deps.csrf.token(ctx), passkeyOptions }, status);
}
