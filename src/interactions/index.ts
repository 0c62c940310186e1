/*
 * The hosted sign-in flow. oidc-provider owns the protocol and decides which step comes next
 * (src/oidc/policy.ts); these routes render that step and hand its result back, one module per
 * step, and steps never call each other.
 *
 *   GET  /interaction/:uid                  the pending step: login, verify_email, profile, consent
 *   POST /interaction/:uid/login            e-mail and password → login            (login.ts)
 *   GET|POST /interaction/:uid/register     a new account, then "check your inbox" (register.ts)
 *   GET|POST /interaction/:uid/forgot       a reset link by e-mail                 (forgot.ts)
 *   POST /interaction/:uid/verify-email     resend the link, or continue           (verify-email.ts)
 *   POST /interaction/:uid/profile          given and family names                 (profile.ts)
 *   POST /interaction/:uid/consent          allow → grant; deny → access_denied    (consent.ts)
 *   POST /interaction/:uid/abort            cancel → access_denied                 (abort.ts)
 *
 * Every route first loads the interaction through oidc-provider's interactionDetails(), which
 * checks the interaction cookie: a sign-in opened in one browser cannot be finished in another.
 * A missing or expired interaction shows the "start again" page. Every form carries a CSRF token.
 * Sign-in through upstream providers (Google) is in federated.ts; the pages behind e-mailed
 * links (verify, reset, link an account) in email-links.ts.
 */
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { InteractionDeps } from './interaction.ts';
import { loadInteraction } from './interaction.ts';
import { showLogin, submitLogin } from './login.ts';
import { showRegister, submitRegister } from './register.ts';
import { showForgot, submitForgot } from './forgot.ts';
import { showVerifyEmail, submitVerifyEmail } from './verify-email.ts';
import { showProfile, submitProfile } from './profile.ts';
import { showConsent, submitConsent } from './consent.ts';
import { submitAbort } from './abort.ts';
import { registerEmailLinkRoutes } from './email-links.ts';
import { registerFederatedRoutes } from './federated.ts';
import { AppError } from '../http/errors.ts';

export type { InteractionDeps };

export function registerInteractionRoutes(router: Router, deps: InteractionDeps): void {
  const load = loadInteraction(deps);
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });
  const steps = {
    login: { show: showLogin(deps), submit: submitLogin(deps) },
    verify_email: { show: showVerifyEmail(deps), submit: submitVerifyEmail(deps) },
    profile: { show: showProfile(deps), submit: submitProfile(deps) },
    consent: { show: showConsent(deps), submit: submitConsent(deps) },
  };

  router.get('/interaction/:uid', load, async (ctx) => {
    const prompt = ctx.state.interaction.details.prompt.name as keyof typeof steps;
    if (!(prompt in steps)) throw new AppError('bad_request', `unknown prompt ${prompt}`);
    await steps[prompt].show(ctx);
  });
  router.post('/interaction/:uid/login', form, load, steps.login.submit);
  router.post('/interaction/:uid/verify-email', form, load, steps.verify_email.submit);
  router.post('/interaction/:uid/profile', form, load, steps.profile.submit);
  router.post('/interaction/:uid/consent', form, load, steps.consent.submit);
  router.post('/interaction/:uid/abort', form, load, submitAbort(deps));
  router.get('/interaction/:uid/register', load, showRegister(deps));
  router.post('/interaction/:uid/register', form, load, submitRegister(deps));
  router.get('/interaction/:uid/forgot', load, showForgot(deps));
  router.post('/interaction/:uid/forgot', form, load, submitForgot(deps));

  registerFederatedRoutes(router, deps, { load, form });
  registerEmailLinkRoutes(router, deps);
}
