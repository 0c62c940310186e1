// The apps the person allowed (the consents store, src/accounts/consents.ts): what each may see,
// in the consent page's words, and since when. Revoking forgets the consent and ends the app's
// grants with their refresh and access tokens (provider-rows' revokedApps), so the app's tokens
// stop working and its next sign-in asks again.
import { z } from 'zod';
import { userActor } from '../audit/trail.ts';
import type { MessageKey } from '../i18n/index.ts';
import type { AccountContext } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { done, renderAccount } from './page.ts';
import { formatDate } from './sessions.ts';

const DESCRIBED = ['openid', 'profile', 'email', 'roles', 'offline_access'];

export const appParams = z.object({ clientId: z.string().min(1).max(64) });

export function showApps(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { t, locale } = ctx.state;
    const provider = deps.provider();
    const apps = await Promise.all(
      (await deps.consents.list(ctx.state.account.user.id)).map(async (consent) => {
        const sees = DESCRIBED.filter((scope) => scope === 'openid' || consent.scopes.includes(scope)).map((scope) => t(`scope.${scope}` as MessageKey));
        const byApi = new Map<string, string[]>();
        for (const key of consent.scopes.filter((scope) => scope.includes('|'))) {
          const [indicator = '', scope = ''] = key.split('|');
          byApi.set(indicator, [...(byApi.get(indicator) ?? []), scope]);
        }
        for (const [indicator, scopes] of byApi) sees.push(t('scope.api', { api: (await deps.apis.find(indicator))?.name ?? indicator, scopes: scopes.join(', ') }));
        return {
          clientId: consent.clientId,
          name: (await provider.Client.find(consent.clientId))?.clientName ?? consent.clientId,
          sees,
          since: formatDate(locale, consent.grantedAt),
        };
      }),
    );
    renderAccount(ctx, deps, 'apps', { apps });
  };
}

export function revokeApp(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { user } = ctx.state.account;
    const parsed = appParams.safeParse(ctx.params);
    if (parsed.success) {
      const { clientId } = parsed.data;
      const forgotten = await deps.consents.forget(user.id, clientId);
      if (forgotten.length === 0) await deps.rows.revokeApp(user.id, clientId);
      deps.audit.record({ action: 'app.revoked', target: clientId, userId: user.id, clientId, actor: userActor(user.id) });
    }
    ctx.status = 303;
    ctx.redirect(done('apps', 'app-revoked'));
  };
}
