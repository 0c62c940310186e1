// Registration, inside a sign-in. A new address gets an unverified account and a confirmation
// link; an address that already has an account gets the very same page, and its owner an e-mail.
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { upstreamButtons } from './interaction.ts';
import { text } from './guards.ts';
import type { StepContext } from './guards.ts';
import { passwordProblem } from '../accounts/password-policy.ts';
import { emailKey } from '../accounts/users.ts';
import { checkEmail, checkName, errorsOf, passwordHint, passwordMessage } from '../http/forms.ts';
import type { FieldErrors } from '../http/forms.ts';
import { LIMITS } from '../http/rate-limits.ts';
import { clientNetwork } from '../http/client-network.ts';
import { AppError } from '../http/errors.ts';
import { VERIFY_EMAIL_TTL } from '../accounts/self-service.ts';

export const registerForm = z.object({ given_name: text, family_name: text, email: text, password: text });
export const resendForm = z.object({ email: text });

type Values = { given_name: string; family_name: string; email: string };

function render(ctx: StepContext, deps: InteractionDeps, values: Values, errors: FieldErrors = {}, status = 200) {
  const { views, csrf } = deps;
  const { details, clientName } = ctx.state.interaction;
  views.render(ctx, 'register', { uid: details.uid, clientName, values, errors, upstreams: upstreamButtons(deps, details.uid), passwordHint: passwordHint(ctx.state.t), csrfToken: csrf.token(ctx) }, status);
}

export function showRegister(deps: InteractionDeps) {
  return async (ctx: StepContext) => render(ctx, deps, { given_name: '', family_name: '', email: '' });
}

export function submitRegister(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof registerForm>>) => {
    const { details } = ctx.state.interaction;
    const t = ctx.state.t;
    const { password, ...submitted } = ctx.state.form;
    const values = { given_name: submitted.given_name.trim(), family_name: submitted.family_name.trim(), email: submitted.email.trim() };
    const problem = password ? await passwordProblem(password, { email: values.email, givenName: values.given_name, familyName: values.family_name }) : null;
    const errors = errorsOf({
      given_name: checkName(t, values.given_name),
      family_name: checkName(t, values.family_name),
      email: checkEmail(t, values.email),
      password: !password ? t('form.required') : problem ? passwordMessage(t, problem) : undefined,
    });
    if (errors) return render(ctx, deps, values, errors, 400);

    await deps.limits.hitAll([LIMITS.registerPerIp, clientNetwork(ctx.ip)], [LIMITS.registerPerAccount, emailKey(values.email)]);
    await deps.selfService.register(
      { email: values.email, password, givenName: values.given_name, familyName: values.family_name },
      { locale: ctx.state.locale, interactionUid: details.uid },
    );
    renderInbox(ctx, deps, values.email);
  };
}

/** "Send the link again" from the check-your-inbox page: the same answer whoever owns the address. */
export function resendRegistration(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof resendForm>>) => {
    const { details } = ctx.state.interaction;
    const email = ctx.state.form.email.trim();
    if (checkEmail(ctx.state.t, email)) throw new AppError('bad_request', 'resend without a valid address');
    await deps.limits.hitAll([LIMITS.resendPerIp, clientNetwork(ctx.ip)], [LIMITS.resendPerAccount, emailKey(email)]);
    const origin = { locale: ctx.state.locale, interactionUid: details.uid };
    deps.afterResponse.run(ctx, 'confirmation link resend', () => deps.selfService.resendVerification(email, origin));
    renderInbox(ctx, deps, email, ctx.state.t('inbox.resent', { email }));
  };
}

function renderInbox(ctx: StepContext, { views, csrf }: InteractionDeps, email: string, notice?: string) {
  const { details } = ctx.state.interaction;
  views.render(ctx, 'check-inbox', {
    message: ctx.state.t('inbox.registered', { email }),
    notice,
    lifetime: ctx.state.t.duration(VERIFY_EMAIL_TTL),
    resend: { action: `/interaction/${details.uid}/register/resend`, email },
    csrfToken: csrf.token(ctx),
    backLink: `/interaction/${details.uid}`,
  });
}
