// Where every way in ends (accounts/sign-in.ts gave who and how): the login step finishes only
// once the sign-in has the factors it needs. When a second factor is needed and not given yet,
// the first one waits in the interaction, on the server (never in a cookie or a form), and the
// login step shows the second-factor page (or, for an account without one, the enrolment page)
// instead of the password form. No session exists until then.
//
// A second factor is needed (oidc/policy.ts decides the same for a session that already exists):
// when the account has one (a confirmed authenticator app or a passkey), when MFA_REQUIRED is
// set, when the app is registered with require_mfa, or when the request's acr_values ask for
// ACR_MFA.
import type { InteractionDeps } from './interaction.ts';
import { finishInteraction, showCurrentStep } from './interaction.ts';
import type { StepPage } from './guards.ts';
import { acrOf, combineAmr, isMultiFactor } from '../oidc/acr.ts';
import { mfaDemanded, ONLY_MFA_MISSING } from '../oidc/policy.ts';
import { hasSecondFactor } from '../accounts/factors.ts';

export interface PendingFactor {
  userId: string;
  amr: string[];
}

// oidc-provider keeps `lastSubmission` with the interaction and reads it only when a result is
// merged with it; nothing of it reaches a session unless a step finishes with it.
const KEY = 'sesamePendingFactor';

function stored(ctx: StepPage): PendingFactor | null {
  const value = (ctx.state.interaction.details.lastSubmission as Record<string, unknown> | undefined)?.[KEY] as PendingFactor | undefined;
  return value && typeof value.userId === 'string' && Array.isArray(value.amr) ? value : null;
}

/**
 * The account that gave a first factor in this sign-in, or whose session needs a second factor
 * now (the login step asked for nothing but that: no prompt=login, no max_age passed).
 */
export async function pendingSecondFactor(ctx: StepPage): Promise<PendingFactor | null> {
  const pending = stored(ctx);
  if (pending) return pending;
  const { details } = ctx.state.interaction;
  const reasons = details.prompt.name === 'login' ? details.prompt.reasons : [];
  if (!details.session?.accountId || !reasons.length || !reasons.every((reason) => ONLY_MFA_MISSING.includes(reason))) return null;
  return { userId: details.session.accountId, amr: [...((details.session.amr as string[] | undefined) ?? [])] };
}

/** Whether `userId` must give a second factor in this sign-in. */
export async function secondFactorNeeded(ctx: StepPage, deps: InteractionDeps, userId: string): Promise<boolean> {
  const { details, provider } = ctx.state.interaction;
  const client = await provider.Client.find(details.params.client_id as string);
  if (mfaDemanded({ mfaRequired: deps.mfaRequired, client, acrValues: details.params.acr_values })) return true;
  return hasSecondFactor(await deps.factors.factorsOf(userId));
}

async function keep(ctx: StepPage, pending: PendingFactor | null): Promise<void> {
  const { details } = ctx.state.interaction;
  const { [KEY]: _, ...rest } = (details.lastSubmission ?? {}) as Record<string, unknown>;
  details.lastSubmission = (pending ? { ...rest, [KEY]: pending } : rest) as typeof details.lastSubmission;
  await details.save(details.exp - Math.floor(Date.now() / 1000));
}

/**
 * Adds `outcome` to the factor already given in this sign-in (same account only), then finishes
 * the login step, or keeps it waiting and shows the second-factor (or enrolment) page.
 */
export async function continueSignIn(ctx: StepPage, deps: InteractionDeps, outcome: { userId: string; amr: string[] }): Promise<void> {
  const pending = await pendingSecondFactor(ctx);
  const amr = pending?.userId === outcome.userId ? combineAmr(pending.amr, outcome.amr) : combineAmr(outcome.amr);
  deps.csrf.renew(ctx);
  if (isMultiFactor(amr) || !(await secondFactorNeeded(ctx, deps, outcome.userId))) {
    await finishInteraction(ctx, { login: { accountId: outcome.userId, amr, acr: acrOf(amr) } });
    return;
  }
  await keep(ctx, { userId: outcome.userId, amr });
  showCurrentStep(ctx);
}

/** Forgets a waiting first factor (the person chose to sign in otherwise). */
export async function dropPendingFactor(ctx: StepPage): Promise<void> {
  if (stored(ctx)) await keep(ctx, null);
}

/** Records that the sign-in now has both factors, to be finished from the next page. */
export async function keepCompletedFactors(ctx: StepPage, pending: PendingFactor): Promise<void> {
  await keep(ctx, pending);
}
