// A passkey in a sign-in: the first factor on the login step (any passkey of this site the
// browser holds: discoverable, user verified), or the second factor of the account that gave a
// first one (that account's passkeys only). The ceremony's options are in the page (the passkey
// form of the login page, login.ts, and of the second-factor page, second-factor.ts); the page's
// script posts the browser's answer here; the sign-in service decides (accounts/sign-in.ts) and
// sign-in-result.ts carries on. A refusal shows the page again with a plain message, never
// why: a response for another sign-in, a replayed one, a removed passkey all read the same.
import { z } from 'zod';
import type { AuthenticationResponseJSON } from '../accounts/passkeys.ts';
import { authenticationResponseSchema, jsonField } from '../http/passkey-forms.ts';
import type { InteractionDeps } from './interaction.ts';
import type { StepContext, StepPage } from './guards.ts';
import { continueSignIn, pendingSecondFactor } from './sign-in-result.ts';
import { renderLogin } from './login.ts';
import { renderSecondFactor } from './second-factor.ts';

export const passkeyForm = z.object({ response: jsonField(authenticationResponseSchema) });

export function submitPasskey(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof passkeyForm>>) => {
    const pending = await pendingSecondFactor(ctx);
    const response = ctx.state.form.response as AuthenticationResponseJSON;
    const outcome = await deps.signIn.passkey(response, { userId: pending?.userId, interactionUid: ctx.state.interaction.details.uid });
    if (outcome.kind === 'refused') return refused(ctx, deps, Boolean(pending));
    await continueSignIn(ctx, deps, outcome);
  };
}

function refused(ctx: StepPage, deps: InteractionDeps, secondFactor: boolean) {
  const error = ctx.state.t('passkey.failed');
  if (secondFactor) return renderSecondFactor(ctx, deps, { error }, 401);
  // The page says the passkey was refused: it does not offer it again by itself (autofill),
  // only when asked (the button).
  const model = { email: '', error, passkeyRefused: true };
  renderLogin(ctx, deps, model, 401);
}
