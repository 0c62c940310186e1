// The challenges of passkey ceremonies. A challenge goes into the page with the ceremony's
// options and is stored nowhere when issued, so that drawing a page writes nothing: it carries
// its expiry and purpose, and a tag (HMAC-SHA-256 under a key derived from the server secrets,
// oidc/secrets.ts) over those and over what it was issued for (the account, the sign-in), by
// which the server knows its own challenges again without remembering them.
//
//   challenge = random (16 bytes) ‖ expiry (4 bytes, seconds) ‖ purpose (1 byte) ‖ tag (32 bytes)
//   tag       = HMAC(key, JSON [version, purpose, account or "", sign-in or "", first 21 bytes])
//
// Guarantees:
// - `check` accepts only a challenge issued by us (any replica, any kept key) for this purpose,
//   account and sign-in; the tag is compared in constant time.
// - `spend` accepts a challenge once: it INSERTs it into webauthn_challenges, whose primary key
//   refuses a second use, only while it is fresh (the database's clock decides, the same one the
//   cleanup job uses, so a spent row is never deleted while its challenge could still be used).
import { randomBytes } from 'node:crypto';
import { decodeClientDataJSON } from '@simplewebauthn/server/helpers';
import type { Prisma } from '../db/database.ts';
import type { PurposeKey } from '../oidc/secrets.ts';

export type ChallengePurpose = 'register' | 'sign-in' | 'second-factor';

/** How long a drawn page's challenge may be used: the page read, then the ceremony. */
export const CHALLENGE_SECONDS = 900;
/** How long a ceremony may take, once started (the options' timeout). */
export const CEREMONY_SECONDS = 300;

const PURPOSES: readonly ChallengePurpose[] = ['register', 'sign-in', 'second-factor'];
const VERSION = 1;
const RANDOM = 16;
const BODY = RANDOM + 4 + 1;
const TAG = 32;

export interface ChallengeBinding {
  purpose: ChallengePurpose;
  userId?: string | null;
  /** The sign-in (interaction) the challenge was issued in; none on the account page. */
  interactionUid?: string | null;
}

/** A challenge of ours, for the expected ceremony: what spending it needs. */
export interface CheckedChallenge {
  challenge: string;
  binding: ChallengeBinding;
  expiresAt: Date;
}

/** The challenge a browser's response signed (from its clientDataJSON), or null if it has none. */
export function challengeOf(response: { response?: { clientDataJSON?: unknown } }): string | null {
  try {
    const { challenge } = decodeClientDataJSON(String(response.response?.clientDataJSON ?? ''));
    return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 200 ? challenge : null;
  } catch {
    return null;
  }
}

const signed = (body: Buffer, { purpose, userId, interactionUid }: ChallengeBinding) =>
  JSON.stringify([VERSION, purpose, userId ?? '', interactionUid ?? '', body.toString('base64url')]);

export function createWebauthnChallenges({ prisma, key, onRefused }: { prisma: Prisma; key: PurposeKey; onRefused: (reason: string) => void }) {
  return {
    /** A new challenge for `binding` (bytes, as @simplewebauthn/server's options take it). Writes nothing. */
    issue(binding: ChallengeBinding, now = Date.now()): Uint8Array<ArrayBuffer> {
      const body = Buffer.alloc(BODY);
      randomBytes(RANDOM).copy(body);
      body.writeUInt32BE(Math.floor(now / 1000) + CHALLENGE_SECONDS, RANDOM);
      body.writeUInt8(PURPOSES.indexOf(binding.purpose), RANDOM + 4);
      const tag = Buffer.from(key.sign(signed(body, binding)), 'base64url');
      return new Uint8Array(Buffer.concat([body, tag]));
    },

    /** Whether `challenge` (base64url, from the response) is ours and was issued for `expected`. */
    check(challenge: string, expected: ChallengeBinding): CheckedChallenge | null {
      const bytes = Buffer.from(challenge, 'base64url');
      if (bytes.length !== BODY + TAG || bytes.toString('base64url') !== challenge) return onRefused('not a challenge of ours'), null;
      const body = bytes.subarray(0, BODY);
      const fits = PURPOSES[body.readUInt8(RANDOM + 4)] === expected.purpose && key.verify(signed(body, expected), bytes.subarray(BODY).toString('base64url'));
      if (!fits) return onRefused('challenge not issued for this ceremony'), null;
      return { challenge, binding: expected, expiresAt: new Date(body.readUInt32BE(RANDOM) * 1000) };
    },

    /** Spends a checked challenge: true the first time, while it is fresh; false ever after. */
    async spend({ challenge, binding, expiresAt }: CheckedChallenge): Promise<boolean> {
      const spent = await prisma.$executeRaw`
        INSERT INTO webauthn_challenges (challenge, purpose, user_id, interaction_uid, expires_at)
        SELECT ${challenge}::text, ${binding.purpose}::text, ${binding.userId ?? null}::text, ${binding.interactionUid ?? null}::text, ${expiresAt}::timestamptz
        WHERE ${expiresAt}::timestamptz > now()
        ON CONFLICT (challenge) DO NOTHING`;
      if (!spent) onRefused(expiresAt.getTime() <= Date.now() ? 'challenge expired' : 'challenge already used');
      return spent > 0;
    },

    async deleteExpired(): Promise<number> {
      return prisma.$executeRaw`DELETE FROM webauthn_challenges WHERE expires_at < now()`;
    },
  };
}
