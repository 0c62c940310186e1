// The profile step: an account without a given or family name (made by an admin, or by an
// upstream provider that did not share them) gives them before the sign-in finishes.
import type Koa from 'koa';
import type { InteractionDeps, InteractionState } from './interaction.ts';
import { finishInteraction } from './interaction.ts';
import { checkName, errorsOf, field } from '../http/forms.ts';
import type { FieldErrors } from '../http/forms.ts';

function render(ctx: Koa.Context, { views, csrf }: InteractionDeps, values: Record<string, string>, errors: FieldErrors = {}, status = 200) {
  const { details } = ctx.state.interaction as InteractionState;
  views.render(ctx, 'profile', { uid: details.uid, values, errors, csrfToken: csrf.token(ctx) }, status);
}

export function showProfile(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    const { details } = ctx.state.interaction as InteractionState;
    const user = details.session?.accountId ? await deps.users.findById(details.session.accountId) : null;
    render(ctx, deps, { given_name: user?.givenName ?? '', family_name: user?.familyName ?? '' });
  };
}

export function submitProfile(deps: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    deps.csrf.verify(ctx, field(ctx, 'csrf'));
    const { details } = ctx.state.interaction as InteractionState;
    const values = { given_name: field(ctx, 'given_name').trim(), family_name: field(ctx, 'family_name').trim() };
    const errors = errorsOf({ given_name: checkName(ctx.state.t, values.given_name), family_name: checkName(ctx.state.t, values.family_name) });
    if (errors) return render(ctx, deps, values, errors, 400);
    if (details.session?.accountId) {
      await deps.users.setNames(details.session.accountId, { givenName: values.given_name, familyName: values.family_name });
    }
    await finishInteraction(ctx, { profile: {} }, true);
  };
}
