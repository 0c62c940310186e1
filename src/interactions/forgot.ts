// "Forgot your password?": asks for an address and always answers the same way, at once; the
// link goes to the account's owner if there is one, looked up after the answer is sent.
// Reachable inside a sign-in (to continue it after the reset) and on its own (/account/forgot,
// linked from e-mails).
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { text } from './guards.ts';
import type { PageContext } from './guards.ts';
import { checkEmail } from '../http/forms.ts';
import { LIMITS } from '../http/rate-limits.ts';
import { emailKey } from '../accounts/users.ts';
import { clientNetwork } from '../http/client-network.ts';
import { RESET_PASSWORD_TTL } from '../accounts/self-service.ts';

type Deps = Pick<InteractionDeps, 'views' | 'csrf' | 'selfService' | 'limits' | 'afterResponse'>;

export const forgotForm = z.object({ email: text });
/** The sign-in page passes on the address typed there. */
export const forgotQuery = z.object({ email: text.transform((email) => email.slice(0, 254)) });

const uidOf = (ctx: PageContext): string | undefined => ctx.state.interaction?.details.uid;
const paths = (uid: string | undefined) =>
  uid ? { action: `/interaction/${uid}/forgot`, backLink: `/interaction/${uid}` } : { action: '/account/forgot', backLink: undefined };

export function showForgot({ views, csrf }: Deps) {
  return async (ctx: PageContext<unknown, z.infer<typeof forgotQuery>>) => {
    const { email } = ctx.state.query;
    views.render(ctx, 'forgot', { ...paths(uidOf(ctx)), email, csrfToken: csrf.token(ctx) });
  };
}

export function submitForgot({ views, csrf, selfService, limits, afterResponse }: Deps) {
  return async (ctx: PageContext<z.infer<typeof forgotForm>>) => {
    const uid = uidOf(ctx);
    const email = ctx.state.form.email.trim();
    const error = checkEmail(ctx.state.t, email);
    if (error) return views.render(ctx, 'forgot', { ...paths(uid), email, error, csrfToken: csrf.token(ctx) }, 400);

    await limits.hitAll([LIMITS.resetPerIp, clientNetwork(ctx.ip)], [LIMITS.resetPerAccount, emailKey(email)]);
    // Looked up only once the answer is out, known address or not: the time it takes tells nothing.
    const origin = { locale: ctx.state.locale, interactionUid: uid };
    afterResponse.run(ctx, 'password reset request', () => selfService.requestReset(email, origin));
    views.render(ctx, 'check-inbox', {
      message: ctx.state.t('inbox.reset', { email }),
      lifetime: ctx.state.t.duration(RESET_PASSWORD_TTL),
      // "Send the link again" is this same request once more, under the same limits.
      resend: { action: paths(uid).action, email },
      csrfToken: csrf.token(ctx),
      backLink: paths(uid).backLink,
    });
  };
}
