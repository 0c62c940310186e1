// The consent step: the client's name and everything it will receive, in plain words
// (consent-page.ts). What is allowed is what the provider says is missing, never what the form
// says; the grant is extended when the sign-in resumes (src/oidc/existing-grant.ts).
import { z } from 'zod';
import type { InteractionDeps } from './interaction.ts';
import { finishInteraction } from './interaction.ts';
import { text } from './guards.ts';
import type { StepContext } from './guards.ts';
import { resourceScopeKey } from '../accounts/consents.ts';
import type { AllowedConsent } from '../oidc/existing-grant.ts';
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

    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const allowed: AllowedConsent = {
      scopes: [
        ...(missing.missingOIDCScope ?? []),
        ...Object.entries(missing.missingResourceScopes ?? {}).flatMap(([indicator, scopes]) => scopes.map((scope) => resourceScopeKey(indicator, scope))),
      ],
      claims: missing.missingOIDCClaims ?? [],
    };
    // Remembered beyond this session: the next sign-in to this app asks only for what is new.
    // What the session's grant held is remembered again (a request with prompt=consent).
    const held = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const heldScopes = held
      ? [...held.getOIDCScope().split(' '), ...Object.keys(held.resources ?? {}).flatMap((indicator) => held.getResourceScope(indicator).split(' ').map((scope) => resourceScopeKey(indicator, scope)))]
      : [];
    await consents.remember(details.session!.accountId, details.params.client_id as string, [...heldScopes, ...allowed.scopes].filter(Boolean), [...(held?.getOIDCClaims() ?? []), ...allowed.claims]);
    // The grant takes it when the sign-in resumes (src/oidc/existing-grant.ts), without reading
    // the memory written just now.
    await finishInteraction(ctx, { consent: { allowed } }, true);
  };
}
