// The pages behind the links we e-mail, usable from any browser:
//   GET/POST /account/verify?token=…   confirm an address
//   GET/POST /account/reset?token=…    choose a new password
//   GET/POST /account/forgot           ask for a reset link (outside any sign-in)
//   GET/POST /account/link?token=…     link an upstream sign-in (Google) to the account
// A link's GET only shows a form (mail scanners follow links); the token moves into the POST
// body, and these pages send no Referer anywhere. "Continue signing in" returns to the sign-in
// the person started, which works if it is still alive in this browser.
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type Koa from 'koa';
import type { InteractionDeps } from './interaction.ts';
import { showForgot, submitForgot } from './forgot.ts';
import { field, passwordHint, passwordMessage } from '../http/forms.ts';

type Deps = Omit<InteractionDeps, 'provider' | 'users'>;

const noReferrer: Koa.Middleware = async (ctx, next) => {
  ctx.set('Referrer-Policy', 'no-referrer');
  await next();
};

function linkInvalid(ctx: Koa.Context, { views }: Deps, offerReset: boolean) {
  views.render(
    ctx,
    'done',
    {
      heading: ctx.state.t('link.invalid-title'),
      message: ctx.state.t('link.invalid'),
      otherLink: offerReset ? { href: '/account/forgot', text: ctx.state.t('link.new-reset') } : undefined,
    },
    400,
  );
}

const continueLink = (uid: string | null) => (uid ? `/interaction/${uid}` : undefined);

export function registerEmailLinkRoutes(router: Router, deps: Deps): void {
  const { views, csrf, selfService, tokens } = deps;
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });
  const tokenParam = (ctx: Koa.Context) => (typeof ctx.query.token === 'string' ? ctx.query.token : '');

  router.get('/account/verify', noReferrer, async (ctx) => {
    const token = tokenParam(ctx);
    if (!(await tokens.peek(token, 'verify-email'))) return linkInvalid(ctx, deps, false);
    views.render(ctx, 'verify-link', { token, csrfToken: csrf.token(ctx) });
  });

  router.post('/account/verify', noReferrer, form, async (ctx) => {
    csrf.verify(ctx, field(ctx, 'csrf'));
    const verified = await selfService.verifyEmail(field(ctx, 'token'));
    if (!verified) return linkInvalid(ctx, deps, false);
    views.render(ctx, 'done', {
      heading: ctx.state.t('verify.done-title'),
      message: ctx.state.t('verify.done'),
      continueLink: continueLink(verified.interactionUid),
    });
  });

  router.get('/account/reset', noReferrer, async (ctx) => {
    const token = tokenParam(ctx);
    if (!(await tokens.peek(token, 'reset-password'))) return linkInvalid(ctx, deps, true);
    views.render(ctx, 'reset', { token, passwordHint: passwordHint(ctx.state.t), csrfToken: csrf.token(ctx) });
  });

  router.post('/account/reset', noReferrer, form, async (ctx) => {
    csrf.verify(ctx, field(ctx, 'csrf'));
    const token = field(ctx, 'token');
    const password = field(ctx, 'password');
    const result = await selfService.resetPassword(token, password, { locale: ctx.state.locale });
    if (result.outcome === 'invalid') return linkInvalid(ctx, deps, true);
    if (result.outcome !== 'changed') {
      const error = password ? passwordMessage(ctx.state.t, result.outcome) : ctx.state.t('form.required');
      return views.render(ctx, 'reset', { token, error, passwordHint: passwordHint(ctx.state.t), csrfToken: csrf.token(ctx) }, 400);
    }
    views.render(ctx, 'done', {
      heading: ctx.state.t('reset.done-title'),
      message: ctx.state.t('reset.done'),
      continueLink: continueLink(result.interactionUid),
    });
  });

  router.get('/account/link', noReferrer, async (ctx) => {
    const token = tokenParam(ctx);
    const pending = await tokens.peek(token, 'link-account');
    if (!pending) return linkInvalid(ctx, deps, false);
    const { providerName } = pending.payload as { providerName: string };
    views.render(ctx, 'link-confirm', { token, provider: providerName, email: pending.email, csrfToken: csrf.token(ctx) });
  });

  router.post('/account/link', noReferrer, form, async (ctx) => {
    csrf.verify(ctx, field(ctx, 'csrf'));
    const confirmed = await selfService.takeLinkConfirmation(field(ctx, 'token'));
    if (!confirmed || !(await deps.federated.linkProven(confirmed.userId, confirmed.identity))) return linkInvalid(ctx, deps, false);
    views.render(ctx, 'done', {
      heading: ctx.state.t('linking.done-title', { provider: confirmed.providerName }),
      message: ctx.state.t('linking.done', { provider: confirmed.providerName }),
      continueLink: continueLink(confirmed.interactionUid),
    });
  });

  router.get('/account/forgot', showForgot(deps));
  router.post('/account/forgot', form, submitForgot(deps));

  router.get('/', async (ctx) => views.render(ctx, 'home', {}));
}
