// argon2id password hashing (OWASP parameters by default), run off the event loop by the argon2
// package and capped in concurrency. A decoy verification for unknown accounts makes "no such
// account" cost the same time as "wrong password".
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { createLimiter } from '../http/limiter.ts';

/** Longer inputs are refused before hashing: argon2 cost grows with input size. */
export const MAX_PASSWORD_LENGTH = 1024;

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
      const matches = await limit(() => argon2.verify(hash, tooLong ? '' : password));
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
    needsRehash: (hash) => argon2.needsRehash(hash, options),
  };
}
