// Single-use tokens behind the links we e-mail: 256 random bits, stored only as a SHA-256 hash,
// bound to one account, one purpose and the address they were sent to, short-lived. Issuing a
// new one cancels the older ones of the same purpose; using one is a single conditional UPDATE,
// so it works once even under concurrent requests.
import { createHash, randomBytes } from 'node:crypto';
import type { Prisma } from '../db/database.ts';

export type TokenPurpose = 'verify-email' | 'reset-password' | 'link-account' | 'change-email';

export interface OneTimeToken {
  userId: string;
  email: string;
  purpose: string;
  interactionUid: string | null;
  payload: unknown;
  expiresAt: Date;
}

const hash = (raw: string) => createHash('sha256').update(raw, 'utf8').digest('base64url');
const looksValid = (raw: unknown): raw is string => typeof raw === 'string' && /^[A-Za-z0-9_-]{43}$/.test(raw);

export function createOneTimeTokens(prisma: Prisma) {
  return {
    async issue(input: { userId: string; purpose: TokenPurpose; email: string; ttlSeconds: number; interactionUid?: string; payload?: object }): Promise<string> {
      const raw = randomBytes(32).toString('base64url');
      await prisma.$transaction([
        prisma.oneTimeToken.deleteMany({ where: { userId: input.userId, purpose: input.purpose } }),
        prisma.oneTimeToken.create({
          data: {
            tokenHash: hash(raw),
            purpose: input.purpose,
            userId: input.userId,
            email: input.email,
            interactionUid: input.interactionUid ?? null,
            ...(input.payload ? { payload: input.payload } : {}),
            expiresAt: new Date(Date.now() + input.ttlSeconds * 1000),
          },
        }),
      ]);
      return raw;
    },

    /** The token if it can still be used, without using it (to show the page behind a link). */
    async peek(raw: unknown, purpose: TokenPurpose): Promise<OneTimeToken | null> {
      if (!looksValid(raw)) return null;
      return prisma.oneTimeToken.findFirst({ where: { tokenHash: hash(raw), purpose, usedAt: null, expiresAt: { gt: new Date() } } });
    },

    /** The token even when used or expired (until cleaned up), to tell the person what happened. */
    async spent(raw: unknown, purpose: TokenPurpose): Promise<OneTimeToken | null> {
      if (!looksValid(raw)) return null;
      return prisma.oneTimeToken.findFirst({ where: { tokenHash: hash(raw), purpose } });
    },

    /** Uses the token: returns it the first time, null ever after (or if expired or unknown). */
    async use(raw: unknown, purpose: TokenPurpose): Promise<OneTimeToken | null> {
      if (!looksValid(raw)) return null;
      const [row] = await prisma.$queryRaw<{ user_id: string; email: string; purpose: string; interaction_uid: string | null; payload: unknown; expires_at: Date }[]>`
        UPDATE one_time_tokens SET used_at = now()
        WHERE token_hash = ${hash(raw)} AND purpose = ${purpose} AND used_at IS NULL AND expires_at > now()
        RETURNING user_id, email, purpose, interaction_uid, payload, expires_at`;
      return row
        ? { userId: row.user_id, email: row.email, purpose: row.purpose, interactionUid: row.interaction_uid, payload: row.payload, expiresAt: row.expires_at }
        : null;
    },

    /** Cancels every outstanding token of an account (of one purpose, or all). */
    async cancel(userId: string, purpose?: TokenPurpose): Promise<void> {
      await prisma.oneTimeToken.deleteMany({ where: { userId, ...(purpose ? { purpose } : {}) } });
    },

    async hasPending(userId: string, purpose: TokenPurpose): Promise<boolean> {
      return (await prisma.oneTimeToken.count({ where: { userId, purpose, usedAt: null, expiresAt: { gt: new Date() } } })) > 0;
    },

    async deleteExpired(): Promise<number> {
      const { count } = await prisma.oneTimeToken.deleteMany({ where: { expiresAt: { lt: new Date() } } });
      return count;
    },
  };
}

export type OneTimeTokens = ReturnType<typeof createOneTimeTokens>;
