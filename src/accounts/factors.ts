// What second factors an account has, in one statement (the sign-in asks on every password or
// Google sign-in), and the admin's reset of all of them.
import type { Prisma } from '../db/database.ts';

export interface AccountFactors {
  passkeys: number;
  /** A confirmed authenticator app. */
  totp: boolean;
  /** Recovery codes not used yet. */
  recoveryCodes: number;
}

/** True when the account can give a second factor (a recovery code alone is a way back, not a factor). */
export const hasSecondFactor = (factors: AccountFactors) => factors.totp || factors.passkeys > 0;

export function createFactors({ prisma }: { prisma: Prisma }) {
  const factorsOf = async (userId: string): Promise<AccountFactors> => {
    const [row] = await prisma.$queryRaw<{ passkeys: number; totp: boolean; recovery_codes: number }[]>`
      SELECT (SELECT count(*)::int FROM passkeys WHERE user_id = ${userId}) AS passkeys,
             EXISTS (SELECT FROM totp_factors WHERE user_id = ${userId} AND confirmed_at IS NOT NULL) AS totp,
             (SELECT count(*)::int FROM recovery_codes WHERE user_id = ${userId} AND used_at IS NULL) AS recovery_codes`;
    return { passkeys: row!.passkeys, totp: row!.totp, recoveryCodes: row!.recovery_codes };
  };

  return {
    factorsOf,

    /** Removes every passkey, the authenticator app and the recovery codes; what there was. */
    async resetFactors(userId: string): Promise<AccountFactors> {
      const before = await factorsOf(userId);
      await prisma.$transaction([
        prisma.passkey.deleteMany({ where: { userId } }),
        prisma.totpFactor.deleteMany({ where: { userId } }),
        prisma.recoveryCode.deleteMany({ where: { userId } }),
      ]);
      return before;
    },
  };
}

export type Factors = ReturnType<typeof createFactors>;
