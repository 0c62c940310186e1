/*
 * The hosted sign-in flow. oidc-provider owns the protocol and decides which step comes next
 * (src/oidc/policy.ts); these routes render that step and hand its result back, one module per
 * step, and steps never call each other.
 *
 *   GET  /interaction/:uid                  the pending step: login, verify_email, profile, consent
 *   POST /interaction/:uid/login            e-mail and password → login            (login.ts)
 *   POST /interaction/:uid/passkey          a passkey, first or second factor      (passkey.ts)
 *   POST /interaction/:uid/second-factor/…  totp, recovery, enrol, continue: the second step of
 *                                           the login step, once a first factor waits (second-factor.ts)
 *   GET|POST /interaction/:uid/register     a new account, then "check your inbox" (register.ts)
 *   POST /interaction/:uid/register/resend  the confirmation link again            (register.ts)
 *   GET|POST /interaction/:uid/forgot       a reset link by e-mail                 (forgot.ts)
 *   POST /interaction/:uid/verify-email     resend the link, or continue           (verify-email.ts)
 *   POST /interaction/:uid/profile          given and family names                 (profile.ts)
 *   POST /interaction/:uid/consent          allow → grant; deny → access_denied    (consent.ts)
 *   POST /interaction/:uid/abort            cancel → access_denied                 (abort.ts)
 *
 * Every route first loads the interaction through oidc-provider's interactionDetails(), which
 * checks the interaction cookie: a sign-in opened in one browser cannot be finished in another.
 * A missing or expired interaction shows the "start again" page. Then, as middleware
 * (guards.ts), each form route checks its CSRF token, that the provider waits for its step (a
 * form out of turn leads back to the pending step and does nothing), and reads its body through
 * a schema: the handler gets a typed form. Sign-in through upstream providers (Google) is in
 * federated.ts; the pages behind e-mailed links (verify, reset, link an account) in
 * email-links.ts.
 */
import type Router from '@koa/router';
import type { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { loadInteraction } from './interaction.ts';
import { form, query, requirePrompt, verifyCsrf } from './guards.ts';
import type { StepContext } from './guards.ts';
import { invalidLogin, loginForm, showLogin, stepQuery, submitLogin } from './login.ts';
import { registerForm, resendForm, resendRegistration, showRegister, submitRegister } from './register.ts';
import { forgotForm, forgotQuery, showForgot, submitForgot } from './forgot.ts';
import { showVerifyEmail, submitVerifyEmail, verifyEmailForm } from './verify-email.ts';
import { profileForm, showProfile, submitProfile } from './profile.ts';
import { consentForm, showConsent, submitConsent } from './consent.ts';
import { passkeyForm, submitPasskey } from './passkey.ts';
import { codeForm, submitContinue, submitEnrolment, submitRecoveryCode, submitTotp } from './second-factor.ts';
import { submitAbort } from './abort.ts';
import { registerEmailLinkRoutes } from './email-links.ts';
import { registerFederatedRoutes } from './federated.ts';
import { AppError } from '../http/errors.ts';

export type { InteractionDeps };

export function registerInteractionRoutes(router: Router, deps: InteractionDeps): void {
  const load = loadInteraction(deps);
  const csrf = verifyCsrf(deps.csrf);
  const pages = {
    login: showLogin(deps),
    verify_email: showVerifyEmail(deps),
    profile: showProfile(deps),
    consent: showConsent(deps),
  };
  const currentStep = async (ctx: StepContext<unknown, z.infer<typeof stepQuery>>) => {
    const prompt = ctx.state.interaction.details.prompt.name;
    if (!Object.hasOwn(pages, prompt)) throw new AppError('bad_request', `unknown prompt ${prompt}`);
    await pages[prompt as keyof typeof pages](ctx);
  };

  //          path                                           checks                                 body or query                              handler
  router.get('/interaction/:uid',                        load,                                  query(stepQuery),                          currentStep);
  router.post('/interaction/:uid/login',                 load, csrf, requirePrompt('login'),    form(loginForm, invalidLogin(deps)),       submitLogin(deps));
  router.post('/interaction/:uid/passkey',               load, csrf, requirePrompt('login'),    form(passkeyForm),                         submitPasskey(deps));
  router.post('/interaction/:uid/second-factor/totp',     load, csrf, requirePrompt('login'),    form(codeForm),                            submitTotp(deps));
  router.post('/interaction/:uid/second-factor/recovery', load, csrf, requirePrompt('login'),    form(codeForm),                            submitRecoveryCode(deps));
  router.post('/interaction/:uid/second-factor/enrol',    load, csrf, requirePrompt('login'),    form(codeForm),                            submitEnrolment(deps));
  router.post('/interaction/:uid/second-factor/continue', load, csrf, requirePrompt('login'),                                               submitContinue(deps));
  router.post('/interaction/:uid/verify-email',          load, csrf, requirePrompt('verify_email'), form(verifyEmailForm),                 submitVerifyEmail(deps));
  router.post('/interaction/:uid/profile',               load, csrf, requirePrompt('profile'),  form(profileForm),                         submitProfile(deps));
  router.post('/interaction/:uid/consent',               load, csrf, requirePrompt('consent'),  form(consentForm),                         submitConsent(deps));
  router.post('/interaction/:uid/abort',                 load, csrf,                                                                       submitAbort());
  router.get('/interaction/:uid/register',               load,                                                                             showRegister(deps));
  router.post('/interaction/:uid/register',              load, csrf,                            form(registerForm),                        submitRegister(deps));
  router.post('/interaction/:uid/register/resend',       load, csrf,                            form(resendForm),                          resendRegistration(deps));
  router.get('/interaction/:uid/forgot',                 load,                                  query(forgotQuery),                        showForgot(deps));
  router.post('/interaction/:uid/forgot',                load, csrf,                            form(forgotForm),                          submitForgot(deps));

  registerFederatedRoutes(router, deps, { load, csrf });
  registerEmailLinkRoutes(router, deps);
}
