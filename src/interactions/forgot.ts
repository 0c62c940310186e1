// "Forgot your password?": asks for an address and always answers the same way; the link goes
// to the account's owner if there is one. Reachable inside a sign-in (to continue it after the
// reset) and on its own (/account/forgot, linked from e-mails).
import type Koa from 'koa';
import type { InteractionDeps, InteractionState } from './interaction.ts';
import { checkEmail, field } from '../http/forms.ts';
import { LIMITS } from '../http/rate-limits.ts';
import { emailKey } from '../accounts/users.ts';
import { clientNetwork } from '../http/client-network.ts';

type Deps = Pick<InteractionDeps, 'views' | 'csrf' | 'selfService' | 'limits'>;

const uidOf = (ctx: Koa.Context): string | undefined => (ctx.state.interaction as InteractionState | undefined)?.details.uid;
const paths = (uid: string | undefined) =>
  uid ? { action: `/interaction/${uid}/forgot`, backLink: `/interaction/${uid}` } : { action: '/account/forgot', backLink: undefined };

export function showForgot({ views, csrf }: Deps) {
  return async (ctx: Koa.Context) => {
    const email = typeof ctx.query.email === 'string' ? ctx.query.email.slice(0, 254) : '';
    views.render(ctx, 'forgot', { ...paths(uidOf(ctx)), email, csrfToken: csrf.token(ctx) });
  };
}

export function submitForgot({ views, csrf, selfService, limits }: Deps) {
  return async (ctx: Koa.Context) => {
    csrf.verify(ctx, field(ctx, 'csrf'));
    const uid = uidOf(ctx);
    const email = field(ctx, 'email').trim();
    const error = checkEmail(ctx.state.t, email);
    if (error) return views.render(ctx, 'forgot', { ...paths(uid), email, error, csrfToken: csrf.token(ctx) }, 400);

    await limits.hit(LIMITS.resetPerIp, clientNetwork(ctx.ip));
    await limits.hit(LIMITS.resetPerAccount, emailKey(email));
    await selfService.requestReset(email, { locale: ctx.state.locale, interactionUid: uid });
    views.render(ctx, 'check-inbox', { message: ctx.state.t('inbox.reset', { email }), backLink: paths(uid).backLink });
  };
}
