// argon2id password hashing (OWASP parameters by default), run off the event loop by the argon2
// package and capped in concurrency. A decoy verification for unknown accounts makes "no such
// account" cost the same time as "wrong password". Hashes carried over by `users import` (bcrypt,
// or argon2id with other parameters) are verified as they are and re-hashed at the next sign-in.
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { randomBytes } from 'node:crypto';
import { createLimiter } from '../http/limiter.ts';

/** Longer inputs are refused before hashing: argon2 cost grows with input size. */
export const MAX_PASSWORD_LENGTH = 1024;

/** bcrypt ($2a$, $2b$, $2y$: the same algorithm under the names its libraries gave it). */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
/** argon2id in the PHC string format (the parameters m, t, p in any order: libraries differ). */
const ARGON2ID_HASH = /^\$argon2id\$v=19\$(?=[^$]*\bm=)(?=[^$]*\bt=)(?=[^$]*\bp=)[mtp]=\d{1,10},[mtp]=\d{1,10},[mtp]=\d{1,10}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;

/** The kind of a stored password hash this server can verify, or null. */
export function hashFormat(hash: string): 'argon2id' | 'bcrypt' | null {
  if (ARGON2ID_HASH.test(hash)) return 'argon2id';
  if (BCRYPT_HASH.test(hash)) return 'bcrypt';
  return null;
}

export interface Argon2Settings {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  maxConcurrency: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `hash`; false for malformed hashes and over-long passwords. */
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the time a verification takes, for an account that does not exist. Always false. */
  verifyDecoy(password: string): Promise<false>;
  needsRehash(hash: string): boolean;
}

export function createPasswordHasher(settings: Argon2Settings): PasswordHasher {
  const options: argon2.HashOptions = {
    type: argon2.argon2id,
    memoryCost: settings.memoryCost,
    timeCost: settings.timeCost,
    parallelism: settings.parallelism,
  };
  const limit = createLimiter(settings.maxConcurrency);
  let decoyHash: Promise<string> | undefined;

  const verify = async (hash: string, password: string) => {
    // An over-long password is never accepted, but costs what a normal verification costs.
    const tooLong = password.length > MAX_PASSWORD_LENGTH;
    try {
      // bcrypt reads only the first 72 bytes, as the library that made the hash did.
      const candidate = tooLong ? '' : password;
      const matches = await limit(() => (hashFormat(hash) === 'bcrypt' ? bcrypt.compare(candidate, hash) : argon2.verify(hash, candidate)));
      return matches && !tooLong;
    } catch (error) {
      if (error instanceof Error && error.name === 'BusyError') throw error;
      return false;
    }
  };

  return {
    hash: (password) => {
      if (password.length > MAX_PASSWORD_LENGTH) throw new RangeError('password too long');
      return limit(() => argon2.hash(password, options));
    },
    verify,
    async verifyDecoy(password) {
      decoyHash ??= argon2.hash(randomBytes(32).toString('base64url'), options);
      await verify(await decoyHash, password);
      return false;
    },
    needsRehash: (hash) => hashFormat(hash) !== 'argon2id' || argon2.needsRehash(hash, options),
  };
}
