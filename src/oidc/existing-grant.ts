// What the person has allowed needs no consent page: for a first-party client, whatever it
// requests; for the others, what they allowed before, in this session or an earlier one
// (src/accounts/consents.ts). Both OpenID scopes and claims and the scopes of the APIs named with
// `resource` (remembered as "<resource>|<scope>"). prompt=consent still always asks
// (oidc-provider's policy). After the consent page, what it allowed comes with the step's result.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { resourceScopeKey } from '../accounts/consents.ts';

/** OpenID scopes and API scopes (as "<resource>|<scope>") and claims a person allowed an app. */
export interface AllowedConsent {
  scopes: string[];
  claims: string[];
}

export type RememberedConsent = (accountId: string, clientId: string) => Promise<AllowedConsent | undefined>;

type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

/** What the request asks for that `grant` does not hold yet. */
function missingFrom(ctx: KoaContextWithOIDC, grant: Grant) {
  const granted = { scopes: new Set(grant.getOIDCScope().split(' ')), claims: new Set(grant.getOIDCClaims()) };
  const resources: [indicator: string, scope: string][] = [];
  for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
    const held = new Set(grant.getResourceScope(indicator).split(' '));
    for (const scope of ctx.oidc.requestParamScopes) {
      if (server.scopes.has(scope) && !held.has(scope)) resources.push([indicator, scope]);
    }
  }
  return {
    scopes: [...ctx.oidc.requestParamOIDCScopes].filter((scope) => !granted.scopes.has(scope)),
    claims: [...(ctx.oidc.requestParamClaims ?? [])].filter((claim) => !granted.claims.has(claim)),
    resources,
  };
}

export function createLoadExistingGrant(rememberedConsent: RememberedConsent) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId ?? session!.grantIdFor(client!.clientId);
    const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    const accountId = session?.accountId;
    if (!accountId) return existing;
    const grant = existing ?? new ctx.oidc.provider.Grant({ clientId: client!.clientId, accountId });
    const missing = missingFrom(ctx, grant);
    if (existing && missing.scopes.length === 0 && missing.claims.length === 0 && missing.resources.length === 0) return existing;
    const firstParty = client!.metadata().first_party === true;
    // Just allowed on the consent page (src/interactions/consent.ts, which also remembered it).
    const allowedNow = ctx.oidc.result?.consent?.allowed as AllowedConsent | undefined;
    const allowed = firstParty ? undefined : (allowedNow ?? (await rememberedConsent(accountId, client!.clientId)));
    if (!firstParty && !allowed) return existing;
    const scopes = missing.scopes.filter((scope) => firstParty || allowed!.scopes.includes(scope));
    const claims = missing.claims.filter((claim) => firstParty || allowed!.claims.includes(claim));
    const resources = missing.resources.filter(([indicator, scope]) => firstParty || allowed!.scopes.includes(resourceScopeKey(indicator, scope)));
    if (scopes.length === 0 && claims.length === 0 && resources.length === 0) return existing;
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    if (claims.length) grant.addOIDCClaims(claims);
    for (const [indicator, scope] of resources) grant.addResourceScope(indicator, scope);
    await grant.save();
    return grant;
  };
}
