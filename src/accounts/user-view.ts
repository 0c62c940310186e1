// The user as relying apps see it outside a sign-in: in the users feed (/api/v1/users) and in
// webhook payloads. Never a secret (no password hash, no tokens), and the same shape in both, so
// an app can apply a webhook and a feed page with one function.
import type { User, UserTombstone } from '../generated/prisma/client.ts';

export interface UserView {
  sub: string;
  email: string;
  email_verified: boolean;
  given_name: string | null;
  family_name: string | null;
  name: string | null;
  picture: string | null;
  roles: string[];
  disabled: boolean;
  external_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface TombstoneView {
  sub: string;
  external_id: string | null;
  deleted: true;
  updated_at: string;
}

export function userView(user: User): UserView {
  return {
    sub: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    given_name: user.givenName,
    family_name: user.familyName,
    name: [user.givenName, user.familyName].filter(Boolean).join(' ') || null,
    picture: user.picture,
    roles: [...user.roles],
    disabled: user.disabledAt !== null,
    external_id: user.externalId,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

/** Whether apps would see `after` differ from `before` (their update time aside): worth a user.updated. */
export function visiblyChanged(before: User, after: User): boolean {
  const seen = (user: User) => JSON.stringify({ ...userView(user), updated_at: '' });
  return seen(before) !== seen(after);
}

export function tombstoneView(tombstone: UserTombstone): TombstoneView {
  return { sub: tombstone.id, external_id: tombstone.externalId, deleted: true, updated_at: tombstone.deletedAt.toISOString() };
}
