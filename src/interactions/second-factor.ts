// The second step of a sign-in, on the login step while a first factor waits
// (sign-in-result.ts):
//   GET  /interaction/:uid[?factor=recovery]         the code form (app, or a recovery code), or
//                                                     for an account without a second factor, the
//                                                     authenticator app's enrolment
//   POST /interaction/:uid/second-factor/totp         a code from the app
//   POST /interaction/:uid/second-factor/recovery     a recovery code (its owner is e-mailed)
//   POST /interaction/:uid/second-factor/enrol        the first code of a new app → recovery codes
//   POST /interaction/:uid/second-factor/continue     past the recovery codes, once saved
// A passkey as second factor is passkey.ts's (its form is on this page when the account has one).
// Each code goes through the sign-in service, limited per address and per account. Cancel
// (abort.ts) is always on the page.
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { showCurrentStep } from './interaction.ts';
import { text } from './guards.ts';
import type { StepContext, StepPage } from './guards.ts';
import { continueSignIn, keepCompletedFactors, pendingSecondFactor } from './sign-in-result.ts';
import type { PendingFactor } from './sign-in-result.ts';
import { hasSecondFactor } from '../accounts/factors.ts';
import { combineAmr, isMultiFactor } from '../oidc/acr.ts';
import { clientNetwork } from '../http/client-network.ts';
import type { TotpEnrolment } from '../accounts/totp.ts';
import { userActor } from '../audit/trail.ts';

export const codeForm = z.object({ code: text.pipe(z.string().max(64)).catch('') });

interface SecondFactorModel {
  error?: string;
  /** `recovery`: the recovery code form rather than the app's. */
  method?: string;
}

/** The page for whatever the waiting sign-in needs now: a code, an enrolment, or "continue". */
export async function renderSecondFactor(ctx: StepPage, deps: InteractionDeps, model: SecondFactorModel = {}, status = 200, enrolment?: TotpEnrolment | null): Promise<void> {
  const pending = await pendingSecondFactor(ctx);
  if (!pending) return showCurrentStep(ctx);
  const { details, clientName } = ctx.state.interaction;
  const base = { uid: details.uid, clientName, csrfToken: deps.csrf.token(ctx), error: model.error };
  if (isMultiFactor(pending.amr)) return deps.views.render(ctx, 'enrol-done', base, status);

  const factors = await deps.factors.factorsOf(pending.userId);
  if (!hasSecondFactor(factors)) {
    const user = await deps.users.findById(pending.userId);
    if (!user) return showCurrentStep(ctx);
    // A new secret each time the page is drawn, unless it is drawn again after a wrong code.
    const shown = enrolment ?? (await deps.totp.begin(user));
    if (!shown) return showCurrentStep(ctx);
    return deps.views.render(ctx, 'enrol-totp', { ...base, qrSvg: shown.qrSvg, secret: shown.secret.match(/.{1,4}/g)!.join(' ') }, status);
  }
  const recovery = model.method === 'recovery' || !factors.totp;
  const passkeyOptions = factors.passkeys > 0 ? await deps.passkeys.secondFactorOptions(pending.userId, details.uid) : undefined;
  deps.views.render(ctx, 'second-factor', { ...base, totp: factors.totp, passkeys: factors.passkeys > 0, passkeyOptions, recovery, recoveryCodes: factors.recoveryCodes }, status);
}

/** The waiting first factor, or back to the step's page (nothing waits: out of turn). */
async function waiting(ctx: StepPage): Promise<PendingFactor | null> {
  const pending = await pendingSecondFactor(ctx);
  if (!pending || isMultiFactor(pending.amr)) showCurrentStep(ctx);
  return pending && !isMultiFactor(pending.amr) ? pending : null;
}

export function submitTotp(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof codeForm>>) => {
    const pending = await waiting(ctx);
    if (!pending) return;
    const outcome = await deps.signIn.totp(pending.userId, ctx.state.form.code, { network: clientNetwork(ctx.ip) });
    if (outcome.kind === 'refused') return renderSecondFactor(ctx, deps, { error: ctx.state.t('mfa.code-wrong') }, 401);
    await continueSignIn(ctx, deps, outcome);
  };
}

export function submitRecoveryCode(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof codeForm>>) => {
    const pending = await waiting(ctx);
    if (!pending) return;
    const outcome = await deps.signIn.recoveryCode(pending.userId, ctx.state.form.code, { network: clientNetwork(ctx.ip), locale: ctx.state.locale });
    if (outcome.kind === 'refused') return renderSecondFactor(ctx, deps, { error: ctx.state.t('mfa.recovery-wrong'), method: 'recovery' }, 401);
    await continueSignIn(ctx, deps, outcome);
  };
}

/** The first code of the app enrolled at this sign-in: the factor is on, recovery codes shown once. */
export function submitEnrolment(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof codeForm>>) => {
    const pending = await waiting(ctx);
    if (!pending) return;
    const user = await deps.users.findById(pending.userId);
    if (!user) return showCurrentStep(ctx);
    const outcome = await deps.signIn.confirmTotp(user.id, ctx.state.form.code, { network: clientNetwork(ctx.ip) });
    if (outcome.kind === 'refused') {
      return renderSecondFactor(ctx, deps, { error: ctx.state.t('mfa.code-wrong') }, 400, await deps.totp.pending(user));
    }
    const codes = await deps.recoveryCodes.generate(user.id);
    deps.audit.record({ action: 'recovery-codes.created', target: user.id, userId: user.id, actor: userActor(user.id), details: { count: codes.length } });
    await deps.mailer.send({ kind: 'security-change', to: user.email, locale: ctx.state.locale, values: { change: 'totp-enabled', accountLink: `${deps.issuer}/account` } });
    await keepCompletedFactors(ctx, { userId: user.id, amr: combineAmr(pending.amr, outcome.amr) });
    deps.csrf.renew(ctx);
    const { details, clientName } = ctx.state.interaction;
    deps.views.render(ctx, 'enrol-recovery-codes', { uid: details.uid, clientName, csrfToken: deps.csrf.token(ctx), codes });
  };
}

export function submitContinue(deps: InteractionDeps) {
  return async (ctx: StepContext) => {
    const pending = await pendingSecondFactor(ctx);
    if (!pending || !isMultiFactor(pending.amr)) return showCurrentStep(ctx);
    await continueSignIn(ctx, deps, pending);
  };
}
