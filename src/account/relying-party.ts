// The account page is a relying app of Sésame like any other: the built-in client
// `sesame-account` (first party: no consent page), openid-client with PKCE, state and nonce.
//
// Public client + PKCE rather than confidential: its only redirect URI is this server's own
// callback, so a secret would prove nothing PKCE does not, and a secret derived from the cookie
// keys would change at every rotation and have to be written again on every replica. It asks
// for no refresh token: it keeps nothing beyond the Sésame session it belongs to.
//
// Its requests to the token endpoint and the JWKS go to this process's own listener
// (openid-client's customFetch), not to the ISSUER's address: behind a proxy the server often
// cannot reach its public URL. The URLs keep naming the ISSUER, which the provider pins every
// request to (app.ts), and X-Forwarded-Proto says its scheme, so discovery advertises the same
// URLs a browser sees (read when TRUST_PROXY is set, as it must be behind a TLS proxy).
import * as oidc from 'openid-client';
import type { ClientDefinitionInput } from '../clients/definition.ts';
import { ACCOUNT_CLIENT_ID } from './deps.ts';

export const ACCOUNT_SCOPE = 'openid profile email';

export function accountClientDefinition(issuer: string): ClientDefinitionInput {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Sésame account',
    redirect_uris: [`${issuer}/account/callback`],
    post_logout_redirect_uris: [`${issuer}/`],
    grant_types: ['authorization_code'],
    public: true,
    first_party: true,
  } as ClientDefinitionInput;
}

/** `localUrl`: this process's listener once it listens (server.ts), else the ISSUER itself. */
export function createAccountRelyingParty({ issuer, localUrl }: { issuer: string; localUrl: () => string | undefined }) {
  const issuerUrl = new URL(issuer);
  const toListener: oidc.CustomFetch = (url, options) => {
    const target = new URL(url);
    const local = localUrl();
    if (local && target.host === issuerUrl.host) {
      const listener = new URL(local);
      target.protocol = listener.protocol;
      target.host = listener.host;
    }
    const headers = new Headers(options.headers as HeadersInit);
    headers.set('x-forwarded-proto', issuerUrl.protocol.slice(0, -1));
    return fetch(target, { ...options, headers } as RequestInit);
  };

  let configuration: Promise<oidc.Configuration> | undefined;
  const config = () => {
    configuration ??= oidc
      .discovery(issuerUrl, ACCOUNT_CLIENT_ID, { redirect_uris: [`${issuer}/account/callback`] }, oidc.None(), {
        [oidc.customFetch]: toListener,
        // Every request goes to this host's own listener (above), whatever scheme the URL names.
        execute: [oidc.allowInsecureRequests],
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };

  return {
    callbackUrl: `${issuer}/account/callback`,
    async authorizationUrl(parameters: Record<string, string>): Promise<{ url: string; verifier: string; state: string; nonce: string }> {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(await config(), {
        redirect_uri: `${issuer}/account/callback`,
        scope: ACCOUNT_SCOPE,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...parameters,
      });
      return { url: url.href, verifier, state, nonce };
    },
    /** Redeems the code of the callback URL; throws what openid-client throws for a bad answer. */
    async redeem(search: string, checks: { verifier: string; state: string; nonce: string }) {
      const tokens = await oidc.authorizationCodeGrant(await config(), new URL(`${issuer}/account/callback${search}`), {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      return { idToken: tokens.id_token!, accessToken: tokens.access_token, claims: tokens.claims()! };
    },
    async endSessionUrl(idToken: string): Promise<string> {
      return oidc.buildEndSessionUrl(await config(), { id_token_hint: idToken, post_logout_redirect_uri: `${issuer}/` }).href;
    },
  };
}

export type AccountRelyingParty = ReturnType<typeof createAccountRelyingParty>;
