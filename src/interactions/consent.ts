// The consent step: the client's name and everything it will receive, in plain words
// (consent-page.ts). The grant is built from what the provider says is missing, never from the
// submitted form.
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { finishInteraction } from './interaction.ts';
import { text } from './guards.ts';
import type { StepContext } from './guards.ts';
import { resourceScopeKey } from '../accounts/consents.ts';
import { consentPageModel } from './consent-page.ts';

export const consentForm = z.object({ decision: text });

export function showConsent({ views, csrf, users, apis }: InteractionDeps) {
  return async (ctx: StepContext) => {
    const { details, provider, clientName } = ctx.state.interaction;
    const page = await consentPageModel(details, provider, { users, apis }, ctx.state.t);
    views.render(ctx, 'consent', { uid: details.uid, clientName, ...page, csrf: csrf.token(ctx) });
  };
}

export function submitConsent({ consents }: InteractionDeps) {
  return async (ctx: StepContext<z.infer<typeof consentForm>>) => {
    const { details, provider } = ctx.state.interaction;
    if (ctx.state.form.decision !== 'allow') {
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
