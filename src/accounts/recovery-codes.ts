// Recovery codes: ten at a time, shown once, each good for one sign-in when the authenticator
// app or passkey is out of reach. Each is 80 random bits (16 base32 letters and digits), so a
// plain SHA-256 of it is enough to store: no dictionary or brute force reaches 2^80, and a slow
// hash (argon2, as for passwords) would only make every use cost more. The account's id goes
// into the hash, so one table row says nothing about another account's codes. Using a code is a
// single conditional UPDATE: two concurrent uses of one code cannot both pass.
import { createHash, randomBytes } from 'node:crypto';
import type { Prisma } from '../db/database.ts';

export const RECOVERY_CODE_COUNT = 10;
// Crockford's base32: no i, l, o or u, and the letters misread for digits read as those digits.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** As people type them: case, spaces and dashes ignored; o read as 0, i and l as 1. */
export const normaliseRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');

function newCode(): string {
  const letters = [...randomBytes(16)].map((byte) => ALPHABET[byte & 31]).join('');
  return letters.match(/.{4}/g)!.join('-');
}

export function createRecoveryCodes({ prisma }: { prisma: Prisma }) {
  const hash = (userId: string, code: string) => createHash('sha256').update(`${userId}:${normaliseRecoveryCode(code)}`, 'utf8').digest('base64url');
  const remaining = (userId: string): Promise<number> => prisma.recoveryCode.count({ where: { userId, usedAt: null } });
  return {
    /** Ten new codes, replacing any the account had; the only time they are ever readable. */
    async generate(userId: string): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
      await prisma.$transaction([
        prisma.recoveryCode.deleteMany({ where: { userId } }),
        prisma.recoveryCode.createMany({ data: codes.map((code) => ({ userId, codeHash: hash(userId, code) })) }),
      ]);
      return codes;
    },

    /** Spends `code`; how many are left, or null when it is not an unused code of the account. */
    async use(userId: string, code: string): Promise<{ remaining: number } | null> {
      const normalised = normaliseRecoveryCode(code);
      if (!/^[0-9a-hjkmnp-tv-z]{16}$/.test(normalised)) return null;
      const { count } = await prisma.recoveryCode.updateMany({ where: { userId, codeHash: hash(userId, normalised), usedAt: null }, data: { usedAt: new Date() } });
      if (count !== 1) return null;
      return { remaining: await remaining(userId) };
    },

    remaining,
  };
}

export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
