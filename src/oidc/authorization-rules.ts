// Sésame's own rules on authorization requests, beyond oidc-provider's. They run as its
// `extraParams` validators: on every authorization and pushed authorization request, after the
// client and its redirect URI are checked, so a refusal goes back to the app as an OAuth error.
import { errors } from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { SESAME_API_SCOPES } from './scopes.ts';
import { isLoopbackRedirect } from '../clients/definition.ts';

type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;

const clientOnlyScopes = new Set<string>(SESAME_API_SCOPES);

const allowsMissingPkce = (client: Client) => client.clientAuthMethod !== 'none' && client.metadata().allow_missing_pkce === true;

/**
 * PKCE with S256 for every client (RFC 9700 §2.1.1), except a confidential client registered
 * with allow_missing_pkce for a library that never sends it (passport-openidconnect). A
 * challenge such a client does send is still checked at the token endpoint.
 */
export function pkceRequired(_ctx: KoaContextWithOIDC, client: Client): boolean {
  return !allowsMissingPkce(client);
}

export const authorizationParamRules: Record<string, (ctx: KoaContextWithOIDC, value: string | undefined, client: Client) => Promise<void>> = {
  // Without PKCE, the nonce is what binds the code to the browser that asked for it (OIDC Core
  // §15.5.2, RFC 9700 §2.1.1): a client that skips PKCE must send one.
  async nonce(ctx, value, client) {
    if (!value && !ctx.oidc.params?.code_challenge && allowsMissingPkce(client)) {
      throw new errors.InvalidRequest('nonce is required when PKCE is not used');
    }
  },
  // Loopback redirects are for native apps (RFC 8252 §7.3); a confidential app registered with
  // one before Sésame refused them may use it only once marked for development. Answered on a
  // page, not by a redirect to that address.
  async redirect_uri(_ctx, value, client) {
    if (value && isLoopbackRedirect(value) && client.clientAuthMethod !== 'none' && client.metadata().development !== true) {
      const error = new errors.InvalidRedirectUri();
      error.error_description = 'loopback redirect URIs are for native apps: this confidential client is not marked for development';
      throw error;
    }
  },
  // Sésame's API scopes are for an app acting for itself (client credentials), never something
  // a person is asked to allow during sign-in.
  async scope(_ctx, value) {
    const refused = value?.split(' ').find((scope) => clientOnlyScopes.has(scope));
    if (refused) throw new errors.InvalidScope('this scope is only granted with client credentials', refused);
  },
};
