// How the provider finds the person behind a session or token: only accounts that exist and are
// not disabled, so a disabled account's tokens stop working at once.
import type { FindAccount } from 'oidc-provider';
import type { UserService } from '../accounts/users.ts';
import { userClaims } from '../accounts/claims.ts';

export function createFindAccount(users: UserService): FindAccount {
  return async (_ctx, sub) => {
    const user = await users.findActiveById(sub);
    if (!user) return undefined;
    return { accountId: user.id, claims: async () => userClaims(user) };
  };
}
