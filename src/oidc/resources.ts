// Access tokens for the company's APIs (resource servers registered with `apis add`).
//   RFC 8707: a client names the API with `resource=<API id>`; an API that does not exist, or
//             that the client is not allowed to ask for, is refused with invalid_target.
//   RFC 9068: the token is a JWT (`typ: at+jwt`) whose `aud` is the API id, signed with a
//             published key, so the API verifies it alone. An API registered with a server
//             client introspects instead: its tokens are opaque, so they can be revoked.
// Without `resource`, a person's access token is opaque and good for userinfo only, as before.
import { errors } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { ApiRecord } from '../apis/registry.ts';

export interface ApiSource {
  find(id: string): Promise<ApiRecord | undefined>;
}

type Features = NonNullable<Configuration['features']>;
type ResourceIndicators = NonNullable<Features['resourceIndicators']>;
type IntrospectionPolicy = NonNullable<NonNullable<Features['introspection']>['allowedPolicy']>;

/**
 * ES256: about 0.2 ms to sign against 1.1–1.4 ms for RS256 (DESIGN.md), paid on every token
 * request, while every current JWT library (jose, nimbus, Microsoft.IdentityModel, golang-jwt,
 * PyJWT) verifies it. An API behind a gateway that only knows RSA would need RS256.
 */
export const ACCESS_TOKEN_ALG = 'ES256';

export function getResourceServerInfo(apis: ApiSource): ResourceIndicators['getResourceServerInfo'] {
  return async (_ctx, indicator, client) => {
    const api = await apis.find(indicator);
    // One answer for both cases: a client learns nothing about APIs it may not use.
    if (!api || !api.clientIds.includes(client.clientId)) {
      throw new errors.InvalidTarget('unknown resource, or one this client may not ask for');
    }
    const jwt = !api.serverClientId;
    return {
      scope: api.scopes.join(' '),
      audience: api.id,
      ...(api.accessTokenTtl ? { accessTokenTTL: api.accessTokenTtl } : {}),
      accessTokenFormat: jwt ? 'jwt' : 'opaque',
      ...(jwt ? { jwt: { sign: { alg: ACCESS_TOKEN_ALG } } } : {}),
    };
  };
}

/**
 * Seconds an access token lives: the API's own lifetime, or the setting. A JWT is checked
 * against published keys, and a replaced key stays published ID_TOKEN_TTL after it stops
 * signing (src/oidc/keys.ts): a JWT access token never lives longer than that.
 */
export function accessTokenTtl(fallback: number, idTokenTtl: number) {
  return (_ctx: KoaContextWithOIDC, token: { resourceServer?: { accessTokenTTL?: number; accessTokenFormat?: string } }) => {
    const ttl = token.resourceServer?.accessTokenTTL ?? fallback;
    return token.resourceServer?.accessTokenFormat === 'jwt' ? Math.min(ttl, idTokenTtl) : ttl;
  };
}

/**
 * Who may introspect what: a client its own tokens; an API's server client the access tokens
 * issued for that API; nobody another client's refresh token. Everyone else is told
 * `{"active": false}`. (JWT access tokens are not introspected at all: oidc-provider answers
 * unsupported_token_type, the API verifies them itself.)
 */
export function introspectionPolicy(apis: ApiSource): IntrospectionPolicy {
  return async (_ctx, client, token) => {
    if (token.clientId === client.clientId) return true;
    if (token.kind === 'RefreshToken' || typeof token.aud !== 'string') return false;
    const api = await apis.find(token.aud);
    return api !== undefined && api.serverClientId === client.clientId;
  };
}

/**
 * The person's roles in their access tokens (the JWT, or what introspection says), when this
 * token's sign-in granted the `roles` scope: an API decides on them without calling userinfo.
 */
export const extraTokenClaims: NonNullable<Configuration['extraTokenClaims']> = async (ctx, token) => {
  if (!('accountId' in token) || !token.accountId) return undefined;
  const { entities, params } = ctx.oidc;
  const source = entities.AuthorizationCode ?? entities.RefreshToken;
  if (!source || !entities.Grant || !ctx.oidc.account) return undefined;
  // On refresh the app may narrow the scope; on code exchange it is the code's.
  const scopes = params?.grant_type === 'refresh_token' && params.scope ? ctx.oidc.requestParamScopes : source.scopes;
  if (!entities.Grant.getOIDCScopeFiltered(scopes).split(' ').includes('roles')) return undefined;
  const claims = await ctx.oidc.account.claims('userinfo', 'roles', {}, []);
  return Array.isArray(claims.roles) ? { roles: claims.roles } : undefined;
};
