// What a relying app learns about a person; the provider keeps only the claims of granted scopes.
import type { User } from '../generated/prisma/client.ts';

export function userClaims(user: User) {
  const name = [user.givenName, user.familyName].filter(Boolean).join(' ');
  return {
    sub: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    ...(user.givenName ? { given_name: user.givenName } : {}),
    ...(user.familyName ? { family_name: user.familyName } : {}),
    ...(name ? { name } : {}),
    ...(user.picture ? { picture: user.picture } : {}),
    roles: [...user.roles],
    updated_at: Math.floor(user.updatedAt.getTime() / 1000),
  };
}
