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

export const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'roles'] as const;

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
  /** What a person allowed a (not first-party) client in an earlier session, if anything. */
  rememberedConsent: (accountId: string, clientId: string) => Promise<{ scopes: string[]; claims: string[] } | undefined>;
  pages: ProviderPages;
  onServerError?: (ctx: KoaContextWithOIDC, error: Error) => void;
}

export function createProvider({ config, policy, adapter, jwks, cookieKeys, findAccount, rememberedConsent, pages, onServerError }: ProviderDeps): Provider {
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

    scopes: [...SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'picture', 'updated_at'],
      email: ['email', 'email_verified'],
      roles: ['roles'],
    },
    // Put the claims of the granted scopes in the ID token too: most relying apps read them there.
    conformIdTokenClaims: false,

    // Authorization code flow only: no implicit or hybrid response types (RFC 9700 §2.1.2).
    responseTypes: ['code'],
    // PKCE with S256 for every client, confidential ones included (RFC 9700 §2.1.1).
    pkce: { required: () => true },
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
      properties: ['first_party'],
      validator(_ctx, key, value) {
        if (key === 'first_party' && value !== undefined && typeof value !== 'boolean') {
          throw new TypeError('first_party must be a boolean');
        }
      },
    },

    features: {
      // The development login pages are never served: Sésame has its own (src/interactions).
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Resource servers (confidential clients) may introspect any access token; refresh tokens,
      // which only their own client ever presents, only by that client. Public clients only
      // their own tokens.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) =>
          token.clientId === client.clientId || (client.clientAuthMethod !== 'none' && token.kind !== 'RefreshToken'),
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
      // Off: no dynamic registration (clients come from the admin CLI), no request objects or
      // request_uri fetching (SSRF surface), no encryption (would need client secrets in plaintext).
      registration: { enabled: false },
      requestObjects: { enabled: false },
      encryption: { enabled: false },
      resourceIndicators: { enabled: false },
    },

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
      AccessToken: ttl.accessToken,
      AuthorizationCode: ttl.authorizationCode,
      ClientCredentials: ttl.clientCredentials,
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

    // What the person has allowed needs no consent page: for a first-party client, whatever it
    // requests; for the others, what they allowed before, in this session or an earlier one
    // (src/accounts/consents.ts). prompt=consent still always asks (oidc-provider's policy).
    async loadExistingGrant(ctx) {
      const { client, session } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session!.grantIdFor(client!.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      const accountId = session?.accountId;
      if (!accountId) return existing;
      const grant = existing ?? new ctx.oidc.provider.Grant({ clientId: client!.clientId, accountId });
      const granted = { scopes: new Set(grant.getOIDCScope().split(' ')), claims: new Set(grant.getOIDCClaims()) };
      const missing = {
        scopes: [...ctx.oidc.requestParamScopes].filter((scope) => !granted.scopes.has(scope)),
        claims: [...(ctx.oidc.requestParamClaims ?? [])].filter((claim) => !granted.claims.has(claim)),
      };
      if (existing && missing.scopes.length === 0 && missing.claims.length === 0) return existing;
      const allowed = client!.metadata().first_party ? missing : await rememberedConsent(accountId, client!.clientId);
      if (!allowed) return existing;
      const scopes = missing.scopes.filter((scope) => allowed.scopes.includes(scope));
      const claims = missing.claims.filter((claim) => allowed.claims.includes(claim));
      if (scopes.length === 0 && claims.length === 0) return existing;
      if (scopes.length) grant.addOIDCScope(scopes.join(' '));
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },

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

  if (onServerError) provider.on('server_error', onServerError);
  return provider;
}
