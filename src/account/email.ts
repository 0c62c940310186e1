// The e-mail address: the new one is proven by a link sent to it (one-time token `change-email`,
// bound to the address it was sent to and to the one it replaces); once followed, the account
// moves to it and the old address is told. An address another account has gets the same answer
// as any other, and nothing is sent: whether it is taken is never said. The link works from any
// browser, signed in or not; its GET only shows a button (mail scanners follow links).
import type Koa from 'koa';
import { z } from 'zod';
import { text } from '../interactions/guards.ts';
import type { PageContext } from '../interactions/guards.ts';
import { checkEmail } from '../http/forms.ts';
import { LIMITS } from '../http/rate-limits.ts';
import { clientNetwork } from '../http/client-network.ts';
import { emailKey } from '../accounts/users.ts';
import { userActor } from '../audit/trail.ts';
import type { AccountContext } from './session.ts';
import { notify } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { done, renderAccount } from './page.ts';

export const CHANGE_EMAIL_TTL = 24 * 3600;
export const emailForm = z.object({ email: text });
export const confirmQuery = z.object({ token: text });
export const confirmForm = z.object({ token: text });

const render = (ctx: AccountContext, deps: AccountDeps, values: { email: string }, errors: Record<string, string> = {}, status = 200) =>
  renderAccount(ctx, deps, 'email', { values, errors }, status);

export function showEmail(deps: AccountDeps) {
  return async (ctx: AccountContext) => render(ctx, deps, { email: '' });
}

export function submitEmail(deps: AccountDeps) {
  return async (ctx: AccountContext & { state: { form: z.infer<typeof emailForm> } }) => {
    const { t, locale } = ctx.state;
    const { user } = ctx.state.account;
    const email = ctx.state.form.email.trim();
    const problem = checkEmail(t, email) ?? (emailKey(email) === user.emailKey ? t('account.email.same') : undefined);
    if (problem) return render(ctx, deps, { email }, { email: problem }, 400);
    // Each request mails an address the person typed: limited like the other links we resend.
    await deps.limits.hitAll([LIMITS.resendPerIp, clientNetwork(ctx.ip)], [LIMITS.resendPerAccount, user.id]);
    deps.audit.record({ action: 'email.change-requested', target: user.emailKey, userId: user.id, actor: userActor(user.id) });
    // After the answer, so that how long it takes says nothing about the address being taken.
    deps.afterResponse.run(ctx as unknown as Koa.Context, 'e-mail change', async () => {
      if (await deps.users.findByEmail(email)) return;
      const token = await deps.tokens.issue({ userId: user.id, purpose: 'change-email', email, ttlSeconds: CHANGE_EMAIL_TTL, payload: { from: user.email } });
      await deps.mailer.send({ kind: 'confirm-new-email', to: email, locale, values: { link: `${deps.issuer}/account/email/confirm?token=${token}` } });
    });
    ctx.status = 303;
    ctx.redirect(done('email', 'email-sent'));
  };
}

function linkInvalid(ctx: Koa.Context, { views }: AccountDeps) {
  const t = ctx.state.t;
  views.render(ctx, 'done', { heading: t('link.invalid-title'), message: `${t('link.invalid')} ${t('account.email.link-again')}`, links: [{ href: '/account/email', text: t('account.home-link') }] }, 400);
}

export function showConfirmEmail(deps: AccountDeps) {
  return async (ctx: PageContext<unknown, z.infer<typeof confirmQuery>>) => {
    const { token } = ctx.state.query;
    const pending = await deps.tokens.peek(token, 'change-email');
    if (!pending) return linkInvalid(ctx, deps);
    deps.views.render(ctx, 'account/email-confirm', { token, email: pending.email, csrfToken: deps.csrf.token(ctx) });
  };
}

export function submitConfirmEmail(deps: AccountDeps) {
  return async (ctx: PageContext<z.infer<typeof confirmForm>>) => {
    const used = await deps.tokens.use(ctx.state.form.token, 'change-email');
    const from = (used?.payload as { from?: unknown } | null)?.from;
    if (!used || typeof from !== 'string' || !(await deps.users.findActiveById(used.userId))) return linkInvalid(ctx, deps);
    if (!(await deps.users.changeEmail(used.userId, from, used.email))) return linkInvalid(ctx, deps);
    deps.audit.record({ action: 'email.changed', target: emailKey(used.email), userId: used.userId, actor: userActor(used.userId), details: { from: emailKey(from) } });
    await notify(deps, { email: from }, 'email-changed', { newEmail: used.email });
    const t = ctx.state.t;
    deps.views.render(ctx, 'done', { heading: t('account.email.changed-title'), message: t('account.email.changed', { email: used.email }), links: [{ href: '/account', text: t('account.home-link') }] });
  };
}
