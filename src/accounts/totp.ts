// Authenticator apps (TOTP, RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step of clock
// drift either way). The secret is stored sealed (oidc/sealing.ts, as webhook secrets are): a copy
// of the database alone does not give anyone codes. An enrolment stays pending until a first
// code proves the app holds the secret; starting another replaces a pending one, never a
// confirmed one. Every code is accepted once: the time step of the last accepted code is kept,
// and accepting one is a single conditional UPDATE, so two concurrent uses of a code cannot both
// pass, nor can an older code after a newer one.
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Prisma } from '../db/database.ts';
import type { Sealer } from '../oidc/sealing.ts';

const PERIOD = 30;
const DIGITS = 6;
const WINDOW = 1;

export interface TotpEnrolment {
  /** Base32, for typing into the app by hand. */
  secret: string;
  /** The otpauth:// URI the QR code carries. */
  uri: string;
  /** The QR code as SVG markup, to put inline in the page. */
  qrSvg: string;
}

export type TotpStatus = 'none' | 'pending' | 'confirmed';

/** Six digits, as people type them: spaces and dashes ignored. */
export const normaliseTotpCode = (code: string) => code.replace(/[\s-]/g, '');

export function createTotp({ prisma, sealer, issuerName }: { prisma: Prisma; sealer: Sealer; issuerName: string }) {
  const context = (userId: string) => `totp:${userId}`;
  const totpOf = (secret: string, label = '') => new TOTP({ issuer: issuerName, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: DIGITS, period: PERIOD });

  const enrolment = async (secret: string, email: string): Promise<TotpEnrolment> => {
    const uri = totpOf(secret, email).toString();
    return { secret, uri, qrSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) };
  };

  /** The time step `code` belongs to, within the window around now, or null. */
  const stepOf = (secret: string, code: string): number | null => {
    const token = normaliseTotpCode(code);
    if (!/^\d{6}$/.test(token)) return null;
    const delta = totpOf(secret).validate({ token, window: WINDOW });
    return delta === null ? null : TOTP.counter({ period: PERIOD }) + delta;
  };

  const secretOf = (row: { userId: string; secret: string }) => sealer.open(row.secret, context(row.userId));

  /** A new pending enrolment (replacing a pending one); null when the account has a confirmed app. */
  const begin = async (user: { id: string; email: string }): Promise<TotpEnrolment | null> => {
    const secret = new Secret({ size: 20 }).base32;
    const sealed = sealer.seal(secret, context(user.id));
    const existing = await prisma.totpFactor.findUnique({ where: { userId: user.id } });
    if (existing?.confirmedAt) return null;
    if (existing) {
      const { count } = await prisma.totpFactor.updateMany({ where: { userId: user.id, confirmedAt: null }, data: { secret: sealed, lastStep: null, createdAt: new Date() } });
      if (!count) return null;
    } else {
      try {
        await prisma.totpFactor.create({ data: { userId: user.id, secret: sealed } });
      } catch (error) {
        // Started meanwhile in another request: replace that one instead.
        if ((error as { code?: string }).code === 'P2002') return begin(user);
        throw error;
      }
    }
    return enrolment(secret, user.email);
  };

  return {
    begin,

    /** The pending enrolment as it was shown (a page drawn again after a wrong code). */
    async pending(user: { id: string; email: string }): Promise<TotpEnrolment | null> {
      const row = await prisma.totpFactor.findUnique({ where: { userId: user.id } });
      return row && !row.confirmedAt ? enrolment(secretOf(row), user.email) : null;
    },

    /** Confirms the pending enrolment with a first code; that code is then spent. */
    async confirm(userId: string, code: string): Promise<boolean> {
      const row = await prisma.totpFactor.findUnique({ where: { userId } });
      if (!row || row.confirmedAt) return false;
      const step = stepOf(secretOf(row), code);
      if (step === null) return false;
      const { count } = await prisma.totpFactor.updateMany({ where: { userId, confirmedAt: null, secret: row.secret }, data: { confirmedAt: new Date(), lastStep: BigInt(step) } });
      return count === 1;
    },

    /** True when `code` is right for the confirmed app and was never accepted before (nor a later one). */
    async verify(userId: string, code: string): Promise<boolean> {
      const row = await prisma.totpFactor.findUnique({ where: { userId } });
      if (!row?.confirmedAt) return false;
      const step = stepOf(secretOf(row), code);
      if (step === null) return false;
      const { count } = await prisma.totpFactor.updateMany({
        where: { userId, confirmedAt: { not: null }, OR: [{ lastStep: null }, { lastStep: { lt: BigInt(step) } }] },
        data: { lastStep: BigInt(step) },
      });
      return count === 1;
    },

    async remove(userId: string): Promise<boolean> {
      const { count } = await prisma.totpFactor.deleteMany({ where: { userId } });
      return count > 0;
    },

    async status(userId: string): Promise<TotpStatus> {
      const row = await prisma.totpFactor.findUnique({ where: { userId }, select: { confirmedAt: true } });
      return !row ? 'none' : row.confirmedAt ? 'confirmed' : 'pending';
    },
  };
}

export type Totp = ReturnType<typeof createTotp>;
