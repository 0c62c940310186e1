// Who is calling the API: a client that holds a client-credentials access token with the scope
// the route needs (RFC 6750 bearer tokens). The token is checked by oidc-provider itself (its
// own model over our adapter: unknown, expired and revoked tokens are absent), and the client
// must still exist, be enabled and be allowed the scope: disabling an app, or withdrawing the
// scope from it, stops its tokens here within CLIENT_CACHE_TTL.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { ClientRegistry } from '../clients/registry.ts';
import { ApiError, MissingTokenError } from './errors.ts';

export interface BearerDeps {
  provider: () => Provider;
  clients: Pick<ClientRegistry, 'providerMetadata'>;
}

function bearerToken(ctx: Koa.Context): string {
  const header = ctx.get('Authorization');
  if (!header) throw new MissingTokenError();
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  if (!match) throw new ApiError('invalid_request', 'the Authorization header must be "Bearer <access token>"');
  return match[1]!;
}

/** Middleware that lets through only a client-credentials token carrying `scope`. */
export function requireClientScope({ provider, clients }: BearerDeps, scope: string): Koa.Middleware {
  return async (ctx, next) => {
    const value = bearerToken(ctx);
    const { ClientCredentials, AccessToken } = provider();
    const token = await ClientCredentials.find(value);
    if (!token) {
      // A person's access token is genuine but never acts for the app itself.
      if (await AccessToken.find(value)) throw new ApiError('insufficient_scope', `this API needs a client credentials token with the ${scope} scope`, { scope });
      throw new ApiError('invalid_token', 'the access token is unknown, expired or revoked');
    }
    // Sender-constrained (DPoP) tokens are only good with a proof, which this API does not check.
    if (token.isSenderConstrained()) throw new ApiError('invalid_token', 'sender-constrained tokens are not accepted here');
    // A token issued for an API (RFC 8707 `resource`) is that API's, whatever its scopes are named.
    if (token.aud !== undefined) throw new ApiError('invalid_token', 'this access token was issued for another API');
    const client = await clients.providerMetadata(token.clientId!);
    if (!client) throw new ApiError('invalid_token', 'the client of this token is disabled or gone');
    // Checked on the client too: withdrawing a scope from an app stops the tokens it already holds.
    const allowed = (granted: unknown) => String(granted ?? '').split(' ').includes(scope);
    if (!allowed(token.scope) || !allowed(client.scope)) throw new ApiError('insufficient_scope', `the token lacks the ${scope} scope`, { scope });
    ctx.state.apiClientId = token.clientId;
    await next();
  };
}
