// How the provider finds the person behind a session or token: only accounts that exist and are
// not disabled, so a disabled account's tokens stop working at once (no cache across requests).
// Every token redemption and userinfo call asks, so the account comes with the token in the
// adapter's one statement (adapter.ts, `accountOf`), or else in one prepared statement of its own
// (db/sql.ts). Either way it lands in the request's memo the user service reads too (`user:<id>`,
// accounts/users.ts), in the very shape Prisma gives.
import type { FindAccount } from 'oidc-provider';
import type { SqlClient } from '../db/sql.ts';
import { memoized } from '../db/request-memo.ts';
import { userClaims } from '../accounts/claims.ts';
import type { User } from '../generated/prisma/client.ts';

/** SQL for the account whose id is `id` (an SQL expression) as one JSON value, or NULL. */
export const accountOf = (id: string) =>
  `(SELECT jsonb_build_object('id', id, 'email', email, 'emailKey', email_key, 'emailVerified', email_verified, 'givenName', given_name,
      'familyName', family_name, 'passwordHash', password_hash, 'picture', picture, 'roles', roles, 'externalId', external_id,
      'passwordChangedAt', password_changed_at, 'disabledAt', disabled_at, 'createdAt', created_at, 'updatedAt', updated_at)
    FROM users WHERE id = ${id})`;

type AccountJson = Omit<User, 'passwordChangedAt' | 'disabledAt' | 'createdAt' | 'updatedAt'> &
  Record<'passwordChangedAt' | 'disabledAt', string | null> &
  Record<'createdAt' | 'updatedAt', string>;

/** What accountOf() gave, as the User Prisma reads. */
export function accountFromJson(json: AccountJson | null): User | null {
  if (!json) return null;
  const date = (value: string | null) => (value === null ? null : new Date(value));
  return {
    ...json,
    passwordChangedAt: date(json.passwordChangedAt),
    disabledAt: date(json.disabledAt),
    createdAt: new Date(json.createdAt),
    updatedAt: new Date(json.updatedAt),
  };
}

/** A copy the caller may change (the roles too); what else it holds is text, numbers and dates. */
const ownCopy = (user: User | null) => user && { ...user, roles: [...user.roles] };

const findUser = { name: 'account_find', text: `SELECT ${accountOf('$1')} AS account` };

export function createFindAccount(sql: SqlClient): FindAccount {
  return async (_ctx, sub) => {
    const user = await memoized(`user:${sub}`, async () => accountFromJson((await sql.query<{ account: AccountJson | null }>(findUser, [sub])).rows[0]!.account), ownCopy);
    if (!user || user.disabledAt) return undefined;
    return { accountId: user.id, claims: async () => userClaims(user) };
  };
}
