// Second factors from the account page: the authenticator app (enrolment by QR code drawn on the
// server, with the secret for typing in, confirmed by a first code; removal), recovery codes
// (ten, shown once, on the answer to the POST that made them, never again) and the passkeys'
// list (B's account/passkeys.ts). Each change tells the owner by e-mail.
import type Koa from 'koa';
import { z } from 'zod';
import { text } from '../interactions/guards.ts';
import { clientNetwork } from '../http/client-network.ts';
import { userActor } from '../audit/trail.ts';
import type { AccountContext } from './session.ts';
import { notify } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { done, renderAccount } from './page.ts';
import { passkeysSection } from './passkeys.ts';

export const totpCodeForm = z.object({ code: text });

async function render(ctx: AccountContext, deps: AccountDeps, extra: Record<string, unknown> = {}, status = 200) {
  const { user } = ctx.state.account;
  const totp = await deps.totp.status(user.id);
  const enrolment = totp === 'pending' ? await deps.totp.pending(user) : null;
  // The page may hold a secret (the pending enrolment, new recovery codes): never kept by a cache.
  ctx.set('Cache-Control', 'no-store');
  renderAccount(ctx, deps, 'security', {
    totp,
    enrolment,
    recoveryCodesLeft: await deps.recoveryCodes.remaining(user.id),
    ...(await passkeysSection(deps, ctx as unknown as Koa.Context, user.id)),
    ...extra,
  }, status);
}

export function showSecurity(deps: AccountDeps) {
  return async (ctx: AccountContext) => render(ctx, deps);
}

export function beginTotp(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    await deps.totp.begin(ctx.state.account.user);
    ctx.status = 303;
    ctx.redirect('/account/security#totp');
  };
}

export function confirmTotp(deps: AccountDeps) {
  return async (ctx: AccountContext & { state: { form: z.infer<typeof totpCodeForm> } }) => {
    const { user } = ctx.state.account;
    const outcome = await deps.signIn.confirmTotp(user.id, ctx.state.form.code, { network: clientNetwork(ctx.ip) });
    if (outcome.kind !== 'signed-in') return render(ctx, deps, { codeError: ctx.state.t('account.totp.wrong-code') }, 400);
    await notify(deps, user, 'totp-enabled');
    ctx.status = 303;
    ctx.redirect(done('security', 'totp-enabled'));
  };
}

export function removeTotp(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { user } = ctx.state.account;
    const wasOn = (await deps.totp.status(user.id)) === 'confirmed';
    if (await deps.totp.remove(user.id)) {
      deps.audit.record({ action: 'totp.removed', target: user.id, userId: user.id, actor: userActor(user.id) });
      if (wasOn) await notify(deps, user, 'totp-removed');
    }
    ctx.status = 303;
    ctx.redirect(done('security', 'totp-removed'));
  };
}

export function createRecoveryCodes(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { user } = ctx.state.account;
    const codes = await deps.recoveryCodes.generate(user.id);
    deps.audit.record({ action: 'recovery-codes.created', target: user.id, userId: user.id, actor: userActor(user.id) });
    await notify(deps, user, 'recovery-codes-created');
    await render(ctx, deps, { newCodes: codes });
  };
}
