// The profile step: an account without a given or family name (made by an admin, or by an
// upstream provider that did not share them) gives them before the sign-in finishes.
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { finishInteraction } from './interaction.ts';
import { text } from './guards.ts';
import type { StepContext, StepPage } from './guards.ts';
import { checkName, errorsOf } from '../http/forms.ts';
import type { FieldErrors } from '../http/forms.ts';

export const profileForm = z.object({ given_name: text, family_name: text });

function render(ctx: StepPage, { views, csrf }: InteractionDeps, values: Record<string, string>, errors: FieldErrors = {}, status = 200) {
  const { details } = ctx.state.interaction;
  views.render(ctx, 'profile', { uid: details.uid, values, errors, csrfToken: csrf.token(ctx) }, status);
}

export function showProfile(deps: InteractionDeps) {
  return async (ctx: StepContext) => {
    const { details } = ctx.state.interaction;
    const user = details.session?.accountId ? await deps.users.findById(details.session.accountId) : null;
    render(ctx, deps, { given_name: user?.givenName ?? '', family_name: user?.familyName ?? '' });
  };
}

export function submitProfile(deps: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof profileForm>>) => {
    const { details } = ctx.state.interaction;
    const values = { given_name: ctx.state.form.given_name.trim(), family_name: ctx.state.form.family_name.trim() };
    const errors = errorsOf({ given_name: checkName(ctx.state.t, values.given_name), family_name: checkName(ctx.state.t, values.family_name) });
    if (errors) return render(ctx, deps, values, errors, 400);
    if (details.session?.accountId) {
      await deps.users.setNames(details.session.accountId, { givenName: values.given_name, familyName: values.family_name });
    }
    await finishInteraction(ctx, { profile: {} }, true);
  };
}
