// The verify_email step: the password was right, but the account's address is not confirmed.
// The page offers to send the link again and to continue once it is confirmed. A link is sent
// when the page is first shown and none is pending (an account created by an admin, say).
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { finishInteraction } from './interaction.ts';
import { text } from './guards.ts';
import type { StepContext, StepPage } from './guards.ts';
import { LIMITS, TooManyAttemptsError } from '../http/rate-limits.ts';
import type { User } from '../accounts/users.ts';
import { clientNetwork } from '../http/client-network.ts';

export const verifyEmailForm = z.object({ action: text });

async function sendLink(ctx: StepPage, { selfService, limits }: InteractionDeps, user: User) {
  await limits.hitAll([LIMITS.resendPerIp, clientNetwork(ctx.ip)], [LIMITS.resendPerAccount, user.id]);
  const { details } = ctx.state.interaction;
  await selfService.sendVerification(user, { locale: ctx.state.locale, interactionUid: details.uid });
}

function render(ctx: StepPage, { views, csrf }: InteractionDeps, user: User, notice?: string) {
  const { details } = ctx.state.interaction;
  views.render(ctx, 'verify-email', { uid: details.uid, email: user.email, notice, csrfToken: csrf.token(ctx) });
}

async function account(ctx: StepPage, deps: InteractionDeps): Promise<User | null> {
  const { details } = ctx.state.interaction;
  return details.session?.accountId ? deps.users.findById(details.session.accountId) : null;
}

export function showVerifyEmail(deps: InteractionDeps) {
  return async (ctx: StepContext) => {
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
  return async (ctx: StepContext<z.infer<typeof verifyEmailForm>>) => {
    const user = await account(ctx, deps);
    if (!user || user.emailVerified) return finishInteraction(ctx, { verify_email: {} }, true);
    if (ctx.state.form.action === 'resend') {
      await sendLink(ctx, deps, user);
      return render(ctx, deps, user, ctx.state.t('verify.sent', { email: user.email }));
    }
    render(ctx, deps, user, ctx.state.t('verify.not-yet'));
  };
}
