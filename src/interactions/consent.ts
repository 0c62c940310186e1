// The consent step: the client's name and what it asks for, in plain words. The grant is built
// from what the provider says is missing, never from the submitted form.
import type Koa from 'koa';
import type { InteractionDeps, InteractionState } from './interaction.ts';
import { finishInteraction, showCurrentStep } from './interaction.ts';
import type { MessageKey } from '../i18n/index.ts';
import { resourceScopeKey } from '../accounts/consents.ts';

const DESCRIBED_SCOPES = new Set(['openid', 'profile', 'email', 'roles', 'offline_access']);

export function showConsent({ views, csrf, users, apis }: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    const { details, clientName } = ctx.state.interaction as InteractionState;
    const requested = new Set(['openid', ...((details.prompt.details.missingOIDCScope as string[] | undefined) ?? [])]);
    const scopes = [...requested].filter((scope) => DESCRIBED_SCOPES.has(scope)).map((scope) => ctx.state.t(`scope.${scope}` as MessageKey));
    // One line per API the app names with `resource`: its name, and its scopes as they are.
    for (const [indicator, apiScopes] of Object.entries((details.prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {})) {
      const api = await apis.find(indicator);
      scopes.push(ctx.state.t('scope.api', { api: api?.name ?? indicator, scopes: apiScopes.join(', ') }));
    }
    const user = details.session?.accountId ? await users.findById(details.session.accountId) : null;
    views.render(ctx, 'consent', { uid: details.uid, clientName, scopes, email: user?.email, csrf: csrf.token(ctx) });
  };
}

export function submitConsent({ csrf, consents }: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    const { details, provider } = ctx.state.interaction as InteractionState;
    if (details.prompt.name !== 'consent') return showCurrentStep(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    csrf.verify(ctx, body.csrf);

    if (body.decision !== 'allow') {
      return finishInteraction(ctx, { error: 'access_denied', error_description: 'End-User denied the request' });
    }

    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope((missing.missingOIDCScope as string[]).join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
    for (const [indicator, scopes] of Object.entries((missing.missingResourceScopes as Record<string, string[]>) ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    // Remembered beyond this session: the next sign-in to this app asks only for what is new.
    const resourceScopes = Object.keys(grant.resources ?? {}).flatMap((indicator) =>
      grant.getResourceScope(indicator).split(' ').filter(Boolean).map((scope) => resourceScopeKey(indicator, scope)),
    );
    await consents.remember(grant.accountId!, grant.clientId!, [...grant.getOIDCScope().split(' ').filter(Boolean), ...resourceScopes], grant.getOIDCClaims());
    await finishInteraction(ctx, { consent: details.grantId ? {} : { grantId } }, true);
  };
}
