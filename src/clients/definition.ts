// A relying app as an admin describes it, in a `clients/*.json` file or with CLI flags, and how
// that becomes oidc-provider client metadata. Validated here, at the edge, once.
import { z } from 'zod';
import { classifyRedirectUri } from './redirect-uris.ts';
import { OIDC_SCOPES, SESAME_API_SCOPES } from '../oidc/scopes.ts';

export const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type Grant = (typeof GRANTS)[number];

const redirectUri = z.string().superRefine((uri, ctx) => {
  const result = classifyRedirectUri(uri);
  if ('problem' in result) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(uri)} ${result.problem}` });
});

// OpenID Connect Back-Channel Logout 1.0 §2.2: an absolute URL without fragment, which Sésame
// POSTs logout tokens to from the server: https, or loopback http for a development client.
const backchannelLogoutUri = z.string().superRefine((uri, ctx) => {
  const result = classifyRedirectUri(uri);
  if ('problem' in result) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(uri)} ${result.problem}` });
  else if (result.kind === 'private-use') ctx.addIssue({ code: 'custom', message: `${JSON.stringify(uri)} must use https (or http on localhost for a development client)` });
});

/** A client as stored: what was valid when it was registered (read back without today's rules). */
export const storedClientSchema = z
  .object({
    client_id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'must be 3 to 64 lower-case letters, digits, ".", "_" or "-"')
      .optional(),
    client_name: z.string().trim().min(1, 'must not be empty').max(100),
    redirect_uris: z.array(redirectUri).default([]),
    post_logout_redirect_uris: z.array(redirectUri).default([]),
    grant_types: z.array(z.enum(GRANTS)).min(1).default(['authorization_code', 'refresh_token']),
    public: z.boolean().default(false),
    first_party: z.boolean().default(false),
    /** Sésame's own API scopes the app may get with client credentials (src/oidc/scopes.ts). */
    allowed_scopes: z.array(z.enum(SESAME_API_SCOPES)).default([]),
    /** Weakens sign-in: for libraries that never send PKCE; the app must then send a nonce. */
    allow_missing_pkce: z.boolean().default(false),
    /** A confidential app on a developer's machine: loopback redirect URIs; refused in production. */
    development: z.boolean().default(false),
    /** Every sign-in to this app takes a second factor (people without one enrol then). */
    require_mfa: z.boolean().default(false),
    /** Where Sésame sends logout tokens when a session the app took part in ends (Back-Channel Logout 1.0). */
    backchannel_logout_uri: backchannelLogoutUri.optional(),
  })
  .strict()
  .transform((client) => ({
    ...client,
    redirect_uris: [...new Set(client.redirect_uris)],
    post_logout_redirect_uris: [...new Set(client.post_logout_redirect_uris)],
    grant_types: [...new Set(client.grant_types)],
    allowed_scopes: [...new Set(client.allowed_scopes)],
  }))
  .superRefine((client, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const code = client.grant_types.includes('authorization_code');
    if (code && client.redirect_uris.length === 0) problem('redirect_uris', 'at least one redirect URI is needed for sign-in (authorization_code)');
    if (!code && client.redirect_uris.length) problem('redirect_uris', 'redirect URIs need the authorization_code grant');
    if (!code && client.post_logout_redirect_uris.length) problem('post_logout_redirect_uris', 'post-logout redirect URIs need the authorization_code grant');
    if (!code && client.grant_types.includes('refresh_token')) problem('grant_types', 'refresh_token needs the authorization_code grant');
    if (client.public && client.grant_types.includes('client_credentials')) problem('grant_types', 'a public client cannot use client_credentials: it has no secret');
    if (client.allowed_scopes.length && !client.grant_types.includes('client_credentials')) problem('allowed_scopes', 'Sésame’s API scopes are only given with client_credentials');
    if (client.public && client.allow_missing_pkce) problem('allow_missing_pkce', 'a public client always needs PKCE (RFC 9700 §2.1.1)');
    if (!code && client.allow_missing_pkce) problem('allow_missing_pkce', 'PKCE concerns sign-in (authorization_code) only');
    if (!code && client.backchannel_logout_uri) problem('backchannel_logout_uri', 'back-channel logout concerns sign-in (authorization_code) only');
  });

/**
 * Loopback redirect URIs are for native apps (RFC 8252 §7.3): any program on the person's
 * machine can listen there. A confidential (web) app uses https, unless it is marked development.
 */
const loopbackOnlyForNativeApps = (client: z.output<typeof storedClientSchema>, ctx: z.RefinementCtx) => {
  if (!client.development && client.backchannel_logout_uri && isLoopbackRedirect(client.backchannel_logout_uri)) {
    ctx.addIssue({
      code: 'custom',
      path: ['backchannel_logout_uri'],
      message: `${JSON.stringify(client.backchannel_logout_uri)} is a loopback address: a back-channel logout URI needs https, unless the app is marked for development (--development, "development": true)`,
    });
  }
  if (client.public || client.development) return;
  for (const path of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
    const loopback = client[path].find((uri) => isLoopbackRedirect(uri));
    if (loopback) {
      ctx.addIssue({
        code: 'custom',
        path: [path],
        message: `${JSON.stringify(loopback)} is a loopback address, for native apps only (RFC 8252): a confidential app needs https, or to be marked for development (--development, "development": true)`,
      });
    }
  }
};

/** A client as an admin registers it today (CLI flags, `clients/*.json`). */
export const clientDefinitionSchema = storedClientSchema.superRefine(loopbackOnlyForNativeApps);

export function isLoopbackRedirect(uri: string): boolean {
  const result = classifyRedirectUri(uri);
  return 'kind' in result && result.kind === 'loopback';
}

export type ClientDefinition = z.output<typeof clientDefinitionSchema>;
/** What callers write: fields with a default may be left out. */
export type ClientDefinitionInput = z.input<typeof clientDefinitionSchema>;

/** Native when it redirects to an app scheme, or is public and only uses loopback addresses. */
export function applicationType(definition: ClientDefinition): 'web' | 'native' {
  const kinds = definition.redirect_uris.map((uri) => {
    const result = classifyRedirectUri(uri);
    return 'kind' in result ? result.kind : undefined;
  });
  if (kinds.includes('private-use')) return 'native';
  return definition.public && kinds.length > 0 && kinds.every((kind) => kind === 'loopback') ? 'native' : 'web';
}

/** oidc-provider client metadata. `secretHash` stands in for the secret (see secrets.ts). */
export function providerMetadata(clientId: string, definition: ClientDefinition, secretHash: string | null) {
  const code = definition.grant_types.includes('authorization_code');
  return {
    client_id: clientId,
    client_name: definition.client_name,
    application_type: applicationType(definition),
    grant_types: definition.grant_types,
    response_types: code ? ['code'] : [],
    redirect_uris: definition.redirect_uris,
    post_logout_redirect_uris: definition.post_logout_redirect_uris,
    token_endpoint_auth_method: definition.public ? 'none' : 'client_secret_basic',
    ...(definition.public ? {} : { client_secret: secretHash ?? '' }),
    first_party: definition.first_party,
    allow_missing_pkce: definition.allow_missing_pkce,
    development: definition.development,
    require_mfa: definition.require_mfa,
    // The scopes of the provider's list this app may get at all: oidc-provider refuses the
    // others with invalid_scope (API scopes of registered resource servers are checked apart).
    scope: [...OIDC_SCOPES, ...definition.allowed_scopes].join(' '),
    // Always with `sid`, so an app can end the one session that ended (Back-Channel Logout 1.0 §2.2).
    ...(definition.backchannel_logout_uri ? { backchannel_logout_uri: definition.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
  };
}
