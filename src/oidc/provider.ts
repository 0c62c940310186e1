// Every oidc-provider setting Sésame relies on, written out even where it equals the library's
// default, so that the security posture can be read in one place. References: the oidc-provider
// configuration docs (docs/README.md in panva/node-oidc-provider), RFC 9700 (OAuth 2.0 Security
// BCP), OpenID Connect Core 1.0.
import Provider from 'oidc-provider';
import type { interactionPolicy } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC, ErrorOut, FindAccount } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config.ts';
import { clientSecretMatches } from '../clients/secrets.ts';
import type { AdapterFactory } from './adapter.ts';
import { OIDC_SCOPES, SESAME_API_SCOPES } from './scopes.ts';
import { accessTokenTtl, extraTokenClaims, getResourceServerInfo, introspectionPolicy } from './resources.ts';
import type { ApiSource } from './resources.ts';
import { authorizationParamRules, pkceRequired } from './authorization-rules.ts';
import { createLoadExistingGrant } from './existing-grant.ts';
import { unauthorizedGrantType } from './grant-type-errors.ts';
import type { RememberedConsent } from './existing-grant.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { answerOutage } from '../http/unavailable.ts';
import { ACR_VALUES } from './acr.ts';

export const SCOPES = [...OIDC_SCOPES, ...SESAME_API_SCOPES] as const;

export interface ProviderPages {
  renderError(ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void>;
  logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface ProviderDeps {
  config: Config;
  /** The sign-in steps (src/oidc/policy.ts); oidc-provider's login and consent when absent. */
  policy?: interactionPolicy.DefaultPolicy;
  adapter: AdapterFactory;
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  findAccount: FindAccount;
  /** The APIs (resource servers) access tokens may be issued for (src/apis/registry.ts). */
  apis: ApiSource;
  /** What a person allowed a (not first-party) client in an earlier session, if anything. */
  rememberedConsent: RememberedConsent;
  pages: ProviderPages;
  onServerError?: (ctx: KoaContextWithOIDC, error: Error) => void;
}

export function createProvider({ config, policy, adapter, jwks, cookieKeys, findAccount, apis, rememberedConsent, pages, onServerError }: ProviderDeps): Provider {
  const { ttl } = config;

  const configuration: Configuration = {
    adapter,
    clients: [],
    jwks: jwks as Configuration['jwks'],
    findAccount,

    cookies: {
      keys: cookieKeys,
      // SameSite=Lax: the session cookie must come along on the top-level GET back from a relying
      // app, never on a cross-site POST. Secure is added by oidc-provider whenever the request
      // is https (behind a TLS proxy, that takes TRUST_PROXY).
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },

    // OpenID Connect's scopes, and Sésame's API scopes (client credentials only: each client's
    // `scope` metadata lists what it may get, src/clients/definition.ts). APIs' own scopes are
    // not listed here: they come with their resource server (resources.ts).
    scopes: [...SCOPES],
    claims: {
      // How the person signed in (acr.ts), in every ID token: RFC 8176 methods and Sésame's level.
      openid: ['sub', 'acr', 'amr'],
      profile: ['name', 'given_name', 'family_name', 'picture', 'updated_at'],
      email: ['email', 'email_verified'],
      roles: ['roles'],
    },
    // Sésame's two levels (acr.ts), listed in discovery as acr_values_supported. A request's
    // acr_values naming ACR_MFA makes the sign-in take a second factor (policy.ts); the ID token's
    // acr says which level the session reached.
    acrValues: [...ACR_VALUES],
    // Put the claims of the granted scopes in the ID token too: most relying apps read them there.
    conformIdTokenClaims: false,

    // Authorization code flow only: no implicit or hybrid response types (RFC 9700 §2.1.2).
    responseTypes: ['code'],
    // PKCE with S256 for every client, confidential ones included (RFC 9700 §2.1.1), except a
    // confidential one registered with allow_missing_pkce, which must send a nonce instead.
    pkce: { required: pkceRequired },
    // Sésame's rules on authorization requests (authorization-rules.ts): the nonce above, and no
    // client-credentials-only scope in a person's sign-in.
    extraParams: authorizationParamRules,
    // OpenID Connect requires redirect_uri in every authorization request; do not infer it.
    allowOmittingSingleRegisteredRedirectUri: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      introspectionSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      authorizationSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
    },
    extraClientMetadata: {
      // require_mfa: every sign-in to the app takes a second factor (policy.ts, acr.ts).
      properties: ['first_party', 'allow_missing_pkce', 'development', 'require_mfa'],
      validator(_ctx, key, value, metadata) {
        if ((key === 'first_party' || key === 'allow_missing_pkce' || key === 'development' || key === 'require_mfa') && value !== undefined && typeof value !== 'boolean') {
          throw new TypeError(`${key} must be a boolean`);
        }
        if (key === 'allow_missing_pkce' && value === true && metadata.token_endpoint_auth_method === 'none') {
          throw new TypeError('a public client always needs PKCE');
        }
      },
    },

    features: {
      // The development login pages are never served: Sésame has its own (src/interactions).
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client introspects its own tokens; an API's server client the access tokens issued for
      // that API (resources.ts). Anyone else is told {"active": false}.
      introspection: {
        enabled: true,
        allowedPolicy: introspectionPolicy(apis),
      },
      // A client revokes only its own tokens (RFC 7009 §2.1); another's are left alone.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      // Pushed authorization requests (RFC 9126) and DPoP (RFC 9449) strengthen what a client
      // chooses to use; neither is required.
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      dPoP: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      // OpenID Connect Back-Channel Logout 1.0 (discovery: backchannel_logout_supported and
      // backchannel_logout_session_supported). A sign-out queues its logout tokens instead of
      // sending them (backchannel-logout.ts); the worker sends them with oidc-provider's own code.
      backchannelLogout: { enabled: true },
      // Off: no dynamic registration (clients come from the admin CLI), no request objects or
      // request_uri fetching (SSRF surface), no encryption (would need client secrets in plaintext).
      registration: { enabled: false },
      requestObjects: { enabled: false },
      encryption: { enabled: false },
      // RFC 8707: access tokens for the APIs of `apis add`, refused with invalid_target for an
      // unknown API or a client it does not allow. Their format (resources.ts): a JWT (RFC 9068,
      // typ at+jwt, aud the API id, ES256 with the published keys), or opaque for an API that
      // introspects.
      resourceIndicators: {
        enabled: true,
        // No resource named: no API is assumed; a person's access token stays the opaque
        // userinfo token (and client credentials stay opaque, for Sésame's own API scopes).
        defaultResource: async () => undefined,
        // With openid granted, a token request without `resource` gets the userinfo token even
        // when the sign-in named an API: the app asks for the API's token with `resource=` at
        // the token endpoint (RFC 8707 §2.2). Without openid, the one API granted is used.
        useGrantedResource: async () => false,
        getResourceServerInfo: getResourceServerInfo(apis),
      },
    },

    // The person's roles in access tokens when `roles` was granted (resources.ts).
    extraTokenClaims,

    // oidc-provider's outgoing requests: only logout tokens to apps' backchannel_logout_uri
    // (no dynamic registration, jwks_uri or CIBA). It gives each 2.5 s and refuses private and
    // loopback addresses; the URIs are the admin's (clients add), and a company's apps often live
    // at private addresses, so we allow those and give BACKCHANNEL_LOGOUT_TIMEOUT instead.
    fetch: (url, options) => fetch(url, { ...options, dispatcher: undefined, signal: AbortSignal.timeout(config.backchannelLogout.timeout * 1000) } as RequestInit),

    // Browsers may call the token, userinfo and revocation endpoints only from the origin of one
    // of a public client's redirect URIs; confidential clients never need CORS.
    clientBasedCORS(ctx, origin, client) {
      if (origin === 'null') return false;
      if (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none') {
        return client.redirectUris!.some((uri) => URL.parse(uri)?.origin === origin);
      }
      return false;
    },

    // Every client registered for refresh_token gets one. Without offline_access (which OIDC Core
    // §11 keeps only with prompt=consent) it expires with the person's session; with it, it
    // outlives the session (expiresWithSession, below).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async (_ctx, code) => !code.scopes.has('offline_access'),
    // Every refresh rotates the refresh token; replaying a used one revokes the whole grant
    // (RFC 9700 §4.14.2).
    rotateRefreshToken: true,

    ttl: {
      // An API may set its own, shorter lifetime (resources.ts).
      AccessToken: accessTokenTtl(ttl.accessToken, ttl.idToken),
      AuthorizationCode: ttl.authorizationCode,
      ClientCredentials: accessTokenTtl(ttl.clientCredentials, ttl.idToken),
      IdToken: ttl.idToken,
      Interaction: ttl.interaction,
      // Sliding while in use, but never past the absolute lifetime counted from the first login.
      RefreshToken(_ctx, token) {
        const remaining = (token.iiat ?? token.iat) + ttl.refreshTokenAbsolute - Math.floor(Date.now() / 1000);
        return Math.max(1, Math.min(ttl.refreshTokenIdle, remaining));
      },
      Grant: ttl.refreshTokenAbsolute,
      // Absolute: a session ends SESSION_TTL after the sign-in that started it.
      Session(_ctx, session) {
        const loginTs = session.loginTs ?? Math.floor(Date.now() / 1000);
        return Math.max(1, loginTs + ttl.session - Math.floor(Date.now() / 1000));
      },
    },

    interactions: {
      ...(policy ? { policy } : {}),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },

    // What the person has allowed needs no consent page: everything for a first-party client,
    // what they allowed before for the others (existing-grant.ts).
    loadExistingGrant: createLoadExistingGrant(rememberedConsent),

    renderError: pages.renderError,

    discovery: {
      ui_locales_supported: ['en', 'fr'],
      claim_types_supported: ['normal'],
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // Behind a TLS-terminating proxy, read the original protocol and client address from it.
  provider.proxy = config.trustProxy;

  // Client secrets are stored hashed (src/clients/secrets.ts): compare the presented secret's hash.
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(this: { clientSecret?: string }, presented: string) {
    return typeof this.clientSecret === 'string' && clientSecretMatches(this.clientSecret, presented);
  };

  // RFC 6749 §5.2's error code for a grant type the client is not registered for.
  provider.use(unauthorizedGrantType);

  if (onServerError) provider.on('server_error', onServerError);
  // A database outage is not the request's fault: 503 and Retry-After instead of a 500 (http/unavailable.ts).
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    if (isDatabaseUnavailable(error)) answerOutage(ctx);
  });
  return provider;
}
