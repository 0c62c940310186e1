// The verify_email step: the password was right, but the account's address is not confirmed.
// The page offers to send the link again and to continue once it is confirmed. A link is sent
// when the page is first shown and none is pending (an account created by an admin, say).
import type Koa from 'koa';
import type { InteractionDeps, InteractionState } from './interaction.ts';
import { finishInteraction } from './interaction.ts';
import { field } from '../http/forms.ts';
import { LIMITS, TooManyAttemptsError } from '../http/rate-limits.ts';
import type { User } from '../accounts/users.ts';
import { clientNetwork } from '../http/client-network.ts';

async function sendLink(ctx: Koa.Context, { selfService, limits }: InteractionDeps, user: User) {
  await limits.hit(LIMITS.resendPerIp, clientNetwork(ctx.ip));
  await limits.hit(LIMITS.resendPerAccount, user.id);
  const { details } = ctx.state.interaction as InteractionState;
  await selfService.sendVerification(user, { locale: ctx.state.locale, interactionUid: details.uid });
}

function render(ctx: Koa.Context, { views, csrf }: InteractionDeps, user: User, notice?: string) {
  const { details } = ctx.state.interaction as InteractionState;
  views.render(ctx, 'verify-email', { uid: details.uid, email: user.email, notice, csrfToken: csrf.token(ctx) });
}

async function account(ctx: Koa.Context, deps: InteractionDeps): Promise<User | null> {
  const { details } = ctx.state.interaction as InteractionState;
  return details.session?.accountId ? deps.users.findById(details.session.accountId) : null;
}

export function showVerifyEmail(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    const user = await account(ctx, deps);
    if (!user || user.emailVerified) return finishInteraction(ctx, { verify_email: {} }, true);
    if (!(await deps.tokens.hasPending(user.id, 'verify-email'))) {
      // Over the resend limit, the page still shows: the person may have an earlier link.
      await sendLink(ctx, deps, user).catch((error) => {
        if (!(error instanceof TooManyAttemptsError)) throw error;
      });
    }
    render(ctx, deps, user);
  };
}

export function submitVerifyEmail(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    deps.csrf.verify(ctx, field(ctx, 'csrf'));
    const user = await account(ctx, deps);
    if (!user || user.emailVerified) return finishInteraction(ctx, { verify_email: {} }, true);
    if (field(ctx, 'action') === 'resend') {
      await sendLink(ctx, deps, user);
      return render(ctx, deps, user, ctx.state.t('verify.sent', { email: user.email }));
    }
    render(ctx, deps, user, ctx.state.t('verify.not-yet'));
  };
}
