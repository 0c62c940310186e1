// Registration, inside a sign-in. A new address gets an unverified account and a confirmation
// link; an address that already has an account gets the very same page, and its owner an e-mail.
import type Koa from 'koa';
import type { InteractionDeps, InteractionState } from './interaction.ts';
import { upstreamButtons } from './interaction.ts';
import { passwordProblem } from '../accounts/password-policy.ts';
import { emailKey } from '../accounts/users.ts';
import { checkEmail, checkName, errorsOf, field, passwordHint, passwordMessage } from '../http/forms.ts';
import type { FieldErrors } from '../http/forms.ts';
import { LIMITS } from '../http/rate-limits.ts';
import { clientNetwork } from '../http/client-network.ts';

type Values = { given_name: string; family_name: string; email: string };

function render(ctx: Koa.Context, deps: InteractionDeps, values: Values, errors: FieldErrors = {}, status = 200) {
  const { views, csrf } = deps;
  const { details, clientName } = ctx.state.interaction as InteractionState;
  views.render(ctx, 'register', { uid: details.uid, clientName, values, errors, upstreams: upstreamButtons(deps, details.uid), passwordHint: passwordHint(ctx.state.t), csrfToken: csrf.token(ctx) }, status);
}

export function showRegister(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => render(ctx, deps, { given_name: '', family_name: '', email: '' });
}

export function submitRegister(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    deps.csrf.verify(ctx, field(ctx, 'csrf'));
    const { details } = ctx.state.interaction as InteractionState;
    const t = ctx.state.t;
    const values = { given_name: field(ctx, 'given_name').trim(), family_name: field(ctx, 'family_name').trim(), email: field(ctx, 'email').trim() };
    const password = field(ctx, 'password');
    const problem = password ? passwordProblem(password, { email: values.email }) : null;
    const errors = errorsOf({
      given_name: checkName(t, values.given_name),
      family_name: checkName(t, values.family_name),
      email: checkEmail(t, values.email),
      password: !password ? t('form.required') : problem ? passwordMessage(t, problem) : undefined,
    });
    if (errors) return render(ctx, deps, values, errors, 400);

    await deps.limits.hit(LIMITS.registerPerIp, clientNetwork(ctx.ip));
    await deps.limits.hit(LIMITS.registerPerAccount, emailKey(values.email));
    await deps.selfService.register(
      { email: values.email, password, givenName: values.given_name, familyName: values.family_name },
      { locale: ctx.state.locale, interactionUid: details.uid },
    );
    deps.views.render(ctx, 'check-inbox', { message: t('inbox.registered', { email: values.email }), backLink: `/interaction/${details.uid}` });
  };
}
