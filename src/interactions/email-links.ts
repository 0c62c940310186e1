// The pages behind the links we e-mail, usable from any browser:
//   GET/POST /account/verify?token=…   confirm an address
//   GET/POST /account/reset?token=…    choose a new password
//   GET/POST /account/forgot           ask for a reset link (outside any sign-in)
//   GET/POST /account/link?token=…     link an upstream sign-in (Google) to the account
// A link's GET only shows a form (mail scanners follow links); the token moves into the POST
// body, and these pages send no path in any Referer (strict-origin: not no-referrer, under which
// browsers send `Origin: null` with the form, refused as cross-site). "Continue signing in"
// returns to the sign-in the person started, which works if it is still alive in this browser.
import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { forgotForm, forgotQuery, showForgot, submitForgot } from './forgot.ts';
import { form, query, text, verifyCsrf } from './guards.ts';
import type { PageContext } from './guards.ts';
import { passwordHint, passwordMessage } from '../http/forms.ts';
import type { TokenPurpose } from '../accounts/one-time-tokens.ts';
import { emailKey } from '../accounts/users.ts';

type Deps = Omit<InteractionDeps, 'provider'>;

const noReferrer: Koa.Middleware = async (ctx, next) => {
  ctx.set('Referrer-Policy', 'strict-origin');
  await next();
};

/** The token travels in the link's query, then in the form's body. */
const linkQuery = z.object({ token: text });
const linkForm = z.object({ token: text });
const resetForm = z.object({ token: text, password: text });
type Link = z.infer<typeof linkQuery>;

const continueLink = (uid: string | null) => (uid ? `/interaction/${uid}` : undefined);

/**
 * A link that cannot be used any more: what happened, and the next step. A confirmation link
 * used before says the address is confirmed; the sign-in the link came from is offered again.
 */
async function linkInvalid(ctx: Koa.Context, { views, tokens, users, connectors }: Deps, purpose: Exclude<TokenPurpose, 'change-email'>, raw: unknown) {
  const t = ctx.state.t;
  const spent = await tokens.spent(raw, purpose);
  if (purpose === 'verify-email' && spent) {
    const user = await users.findById(spent.userId);
    if (user?.emailVerified && emailKey(user.email) === emailKey(spent.email)) {
      const message = t('link.already-confirmed', { email: user.email });
      return views.render(ctx, 'done', { heading: t('link.already-confirmed-title'), message, continueLink: continueLink(spent.interactionUid) });
    }
  }
  const provider = (spent?.payload as { providerName?: string } | null)?.providerName ?? [...connectors.values()][0]?.displayName ?? '';
  const nextStep = {
    'verify-email': t('link.verify-again'),
    'reset-password': t('link.reset-again'),
    'link-account': t('link.link-again', { provider }),
  }[purpose];
  const links = [
    purpose === 'reset-password' ? { href: '/account/forgot', text: t('link.new-reset') } : undefined,
    spent?.interactionUid ? { href: `/interaction/${spent.interactionUid}`, text: t('inbox.back') } : undefined,
  ].filter((link) => link !== undefined);
  views.render(ctx, 'done', { heading: t('link.invalid-title'), message: `${t('link.invalid')} ${nextStep}`, links }, 400);
}

export function registerEmailLinkRoutes(router: Router, deps: Deps): void {
  const { views, csrf, selfService, tokens } = deps;
  const csrfChecked = verifyCsrf(csrf);

  router.get('/account/verify', noReferrer, query(linkQuery), async (ctx: PageContext<unknown, Link>) => {
    const { token } = ctx.state.query;
    if (!(await tokens.peek(token, 'verify-email'))) return linkInvalid(ctx, deps, 'verify-email', token);
    views.render(ctx, 'verify-link', { token, csrfToken: csrf.token(ctx) });
  });

  router.post('/account/verify', noReferrer, csrfChecked, form(linkForm), async (ctx: PageContext<Link>) => {
    const { token } = ctx.state.form;
    const verified = await selfService.verifyEmail(token);
    if (!verified) return linkInvalid(ctx, deps, 'verify-email', token);
    views.render(ctx, 'done', {
      heading: ctx.state.t('verify.done-title'),
      message: ctx.state.t('verify.done'),
      continueLink: continueLink(verified.interactionUid),
    });
  });

  router.get('/account/reset', noReferrer, query(linkQuery), async (ctx: PageContext<unknown, Link>) => {
    const { token } = ctx.state.query;
    if (!(await tokens.peek(token, 'reset-password'))) return linkInvalid(ctx, deps, 'reset-password', token);
    views.render(ctx, 'reset', { token, passwordHint: passwordHint(ctx.state.t), csrfToken: csrf.token(ctx) });
  });

  router.post('/account/reset', noReferrer, csrfChecked, form(resetForm), async (ctx: PageContext<z.infer<typeof resetForm>>) => {
    const { token, password } = ctx.state.form;
    const result = await selfService.resetPassword(token, password, { locale: ctx.state.locale });
    if (result.outcome === 'invalid') return linkInvalid(ctx, deps, 'reset-password', token);
    if (result.outcome === 'refused') {
      const error = password ? passwordMessage(ctx.state.t, result.problem) : ctx.state.t('form.required');
      return views.render(ctx, 'reset', { token, error, passwordHint: passwordHint(ctx.state.t), csrfToken: csrf.token(ctx) }, 400);
    }
    views.render(ctx, 'done', {
      heading: ctx.state.t('reset.done-title'),
      message: ctx.state.t('reset.done'),
      continueLink: continueLink(result.interactionUid),
    });
  });

  router.get('/account/link', noReferrer, query(linkQuery), async (ctx: PageContext<unknown, Link>) => {
    const { token } = ctx.state.query;
    const pending = await tokens.peek(token, 'link-account');
    if (!pending) return linkInvalid(ctx, deps, 'link-account', token);
    const { providerName } = pending.payload as { providerName: string };
    views.render(ctx, 'link-confirm', { token, provider: providerName, email: pending.email, csrfToken: csrf.token(ctx) });
  });

  router.post('/account/link', noReferrer, csrfChecked, form(linkForm), async (ctx: PageContext<Link>) => {
    const { token } = ctx.state.form;
    const confirmed = await selfService.takeLinkConfirmation(token);
    if (!confirmed || !(await deps.federated.linkProven(confirmed.userId, confirmed.identity))) return linkInvalid(ctx, deps, 'link-account', token);
    views.render(ctx, 'done', {
      heading: ctx.state.t('linking.done-title', { provider: confirmed.providerName }),
      message: ctx.state.t('linking.done', { provider: confirmed.providerName }),
      continueLink: continueLink(confirmed.interactionUid),
    });
  });

  router.get('/account/forgot', query(forgotQuery), showForgot(deps));
  router.post('/account/forgot', csrfChecked, form(forgotForm), submitForgot(deps));

  router.get('/', async (ctx) => views.render(ctx, 'home', {}));
}
