// The password: the current one asked (the one sign-in service checks it, under its limits), the
// new one through the password policy. An account without one (it signs in with Google or a
// passkey) may set one: the recent sign-in every change needs is the proof it is them. Other
// sessions end on request; the address is told either way.
import { z } from 'zod';
import { text } from '../interactions/guards.ts';
import { passwordHint, passwordMessage } from '../http/forms.ts';
import type { FieldErrors } from '../http/forms.ts';
import { clientNetwork } from '../http/client-network.ts';
import { passwordProblem } from '../accounts/password-policy.ts';
import { userActor } from '../audit/trail.ts';
import type { AccountContext } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { done, renderAccount } from './page.ts';

export const passwordForm = z.object({ current: text, password: text, sign_out_others: text });

const render = (ctx: AccountContext, deps: AccountDeps, errors: FieldErrors = {}, status = 200) =>
  renderAccount(ctx, deps, 'password', { hasPassword: Boolean(ctx.state.account.user.passwordHash), errors, passwordHint: passwordHint(ctx.state.t) }, status);

export function showPassword(deps: AccountDeps) {
  return async (ctx: AccountContext) => render(ctx, deps);
}

export function submitPassword(deps: AccountDeps) {
  return async (ctx: AccountContext & { state: { form: z.infer<typeof passwordForm> } }) => {
    const { t } = ctx.state;
    const { user, uid } = ctx.state.account;
    const { current, password, sign_out_others: signOutOthers } = ctx.state.form;
    if (user.passwordHash) {
      if (!current) return render(ctx, deps, { current: t('form.required') }, 400);
      const outcome = await deps.signIn.password({ email: user.email, password: current, network: clientNetwork(ctx.ip), device: deps.devices.recognise(ctx as never, user.emailKey) });
      if (outcome.kind !== 'signed-in' || outcome.userId !== user.id) return render(ctx, deps, { current: t('account.password.wrong') }, 400);
    }
    const problem = password ? await passwordProblem(password, { email: user.email, givenName: user.givenName, familyName: user.familyName }) : null;
    if (!password || problem) return render(ctx, deps, { password: problem ? passwordMessage(t, problem) : t('form.required') }, 400);
    await deps.users.setPasswordHash(user.id, await deps.passwords.hash(password));
    const action = user.passwordHash ? 'password.changed' : 'password.set';
    const ended = signOutOthers ? await deps.rows.endSessions(user.id, { except: uid, reason: 'revoked' }) : 0;
    deps.audit.record({ action, target: user.emailKey, userId: user.id, actor: userActor(user.id), details: { otherSessionsEnded: ended } });
    await deps.mailer.send({ kind: 'password-changed', to: user.email, locale: ctx.state.locale, values: { resetLink: `${deps.issuer}/account/forgot` } });
    ctx.status = 303;
    ctx.redirect(done('password', user.passwordHash ? 'password-changed' : 'password-set'));
  };
}
