// The scopes Sésame itself defines: OpenID Connect's, which a person allows on the consent page,
// and those of Sésame's own APIs, which only an app acting for itself may get (client
// credentials) and only when its registration allows them (`allowed_scopes`).
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'roles'] as const;

/** `users:read`: the users feed, GET /api/v1/users (src/api/users-feed.ts). */
export const SESAME_API_SCOPES = ['users:read'] as const;
export type SesameApiScope = (typeof SESAME_API_SCOPES)[number];
