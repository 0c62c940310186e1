// What oidc-provider tells through its events, in the logs and the metrics: tokens issued by
// grant type, refused protocol requests, and grants revoked because a refresh token or a code
// was used twice (a sign that one leaked); its server errors are logged by server.ts. Each line
// names the request, the client and the OAuth error, never a token, code or secret.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';

type OAuthError = Error & { error?: string; error_description?: string; error_detail?: string };

function about(ctx: KoaContextWithOIDC) {
  return { requestId: ctx.state.requestId as string, route: ctx.oidc?.route, clientId: ctx.oidc?.client?.clientId };
}

// error_detail is oidc-provider's reason for the operator ("refresh token already used"): fixed
// wording and parameter names, never a value that was sent.
const refused = (error: OAuthError) => ({ error: error.error, description: error.error_description, detail: error.error_detail });

/** `provider`, with its events logged and counted. */
export function observeProvider(provider: Provider, log: Logger, metrics: Metrics): Provider {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => metrics.tokenIssued(String(ctx.oidc.params!.grant_type)));
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: OAuthError) => {
    log.warn({ ...about(ctx), grantType: ctx.oidc?.params?.grant_type, ...refused(error) }, 'token request refused');
  });
  // Refusals at the other endpoints apps call: expected now and then (an expired token).
  const refusal = (event: string) => (ctx: KoaContextWithOIDC, error: OAuthError) => log.info({ ...about(ctx), event, ...refused(error) }, 'protocol request refused');
  provider.on('introspection.error', refusal('introspection.error'));
  provider.on('revocation.error', refusal('revocation.error'));
  provider.on('userinfo.error', refusal('userinfo.error'));
  provider.on('pushed_authorization_request.error', refusal('pushed_authorization_request.error'));
  // At the token endpoint a grant is revoked only when a code or a refresh token comes back after
  // it was used (RFC 6749 §4.1.2, RFC 9700 §4.14.2); elsewhere it is a revocation or a sign-out.
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    if (ctx.oidc?.route === 'token') log.warn({ ...about(ctx), grantId, grantType: ctx.oidc.params?.grant_type }, 'a refresh token or code was used twice: its grant is revoked');
    else log.info({ ...about(ctx), grantId }, 'grant revoked');
  });
  return provider;
}
