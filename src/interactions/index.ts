/*
 * The hosted sign-in flow. oidc-provider owns the protocol and decides which prompt comes next;
 * these routes render that prompt and hand its result back, one module per step.
 *
 *   GET  /interaction/:uid          the pending prompt: login or consent
 *   POST /interaction/:uid/login    e-mail and password → login result       (login.ts)
 *   POST /interaction/:uid/consent  allow → grant; deny → access_denied      (consent.ts)
 *   POST /interaction/:uid/abort    cancel → access_denied                   (abort.ts)
 *
 * Every route first loads the interaction through oidc-provider's interactionDetails(), which
 * checks the interaction cookie: a sign-in opened in one browser cannot be finished in another.
 * A missing or expired interaction shows the "start again" page. Every form carries a CSRF token.
 */
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { InteractionDeps } from './interaction.ts';
import { loadInteraction } from './interaction.ts';
import { showLogin, submitLogin } from './login.ts';
import { showConsent, submitConsent } from './consent.ts';
import { submitAbort } from './abort.ts';
import { AppError } from '../http/errors.ts';

export type { InteractionDeps };

export function registerInteractionRoutes(router: Router, deps: InteractionDeps): void {
  const load = loadInteraction(deps);
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });
  const steps = {
    login: { show: showLogin(deps), submit: submitLogin(deps) },
    consent: { show: showConsent(deps), submit: submitConsent(deps) },
  };

  router.get('/interaction/:uid', load, async (ctx) => {
    const prompt = ctx.state.interaction.details.prompt.name as keyof typeof steps;
    if (!(prompt in steps)) throw new AppError('bad_request', `unknown prompt ${prompt}`);
    await steps[prompt].show(ctx);
  });
  router.post('/interaction/:uid/login', form, load, steps.login.submit);
  router.post('/interaction/:uid/consent', form, load, steps.consent.submit);
  router.post('/interaction/:uid/abort', form, load, submitAbort(deps));
}
