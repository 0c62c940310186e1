// The overview and the names: what apps read as given_name, family_name and name.
import { z } from 'zod';
import { text } from '../interactions/guards.ts';
import { checkName, errorsOf } from '../http/forms.ts';
import type { FieldErrors } from '../http/forms.ts';
import { userActor } from '../audit/trail.ts';
import type { AccountContext } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { done, renderAccount } from './page.ts';

export const namesForm = z.object({ given_name: text, family_name: text });

export function showOverview(deps: AccountDeps) {
  return async (ctx: AccountContext) => renderAccount(ctx, deps, 'overview', { hasPassword: Boolean(ctx.state.account.user.passwordHash) });
}

const renderNames = (ctx: AccountContext, deps: AccountDeps, values: Record<string, string>, errors: FieldErrors = {}, status = 200) =>
  renderAccount(ctx, deps, 'names', { values, errors }, status);

export function showNames(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { user } = ctx.state.account;
    renderNames(ctx, deps, { given_name: user.givenName ?? '', family_name: user.familyName ?? '' });
  };
}

export function submitNames(deps: AccountDeps) {
  return async (ctx: AccountContext & { state: { form: z.infer<typeof namesForm> } }) => {
    const values = { given_name: ctx.state.form.given_name.trim(), family_name: ctx.state.form.family_name.trim() };
    const errors = errorsOf({ given_name: checkName(ctx.state.t, values.given_name), family_name: checkName(ctx.state.t, values.family_name) });
    if (errors) return renderNames(ctx, deps, values, errors, 400);
    const { user } = ctx.state.account;
    await deps.users.setNames(user.id, { givenName: values.given_name, familyName: values.family_name });
    deps.audit.record({ action: 'names.changed', target: user.id, userId: user.id, actor: userActor(user.id) });
    ctx.status = 303;
    ctx.redirect(done('names', 'names-saved'));
  };
}
