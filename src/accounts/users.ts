// Local accounts: unique case-insensitive e-mail, argon2id password, names, verified flag.
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import type { User } from '../generated/prisma/client.ts';
import type { PasswordHasher } from './passwords.ts';
import { forget, memoized } from '../db/request-memo.ts';
import { revokeEverythingOf } from '../oidc/account-revocation.ts';

export type { User };

export class DuplicateEmailError extends Error {
  constructor() {
    super('an account with this e-mail address already exists');
    this.name = 'DuplicateEmailError';
  }
}

/** The login key of an address: trimmed and lower-cased. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/** A plausible e-mail address (the only real check is the link we send to it). */
export function isEmailAddress(email: string): boolean {
  return email.length <= 254 && /^[^\s@<>",;()\\]+@[^\s@<>",;()\\]+\.[^\s@<>",;()\\]+$/.test(email);
}

export interface NewUser {
  email: string;
  password?: string;
  emailVerified?: boolean;
  givenName?: string;
  familyName?: string;
}

export interface UserServiceOptions {
  /** Roles every new account gets (DEFAULT_ROLES). */
  defaultRoles: readonly string[];
}

export function createUserService(prisma: Prisma, passwords: PasswordHasher, { defaultRoles }: UserServiceOptions) {
  // Read once per request (db/request-memo.ts); every write below forgets the account.
  const findById = (id: string): Promise<User | null> => memoized(`user:${id}`, () => prisma.user.findUnique({ where: { id } }));

  return {
    defaultRoles,

    async create(input: NewUser): Promise<User> {
      const passwordHash = input.password === undefined ? null : await passwords.hash(input.password);
      try {
        return await prisma.user.create({
          data: {
            id: randomUUID(),
            email: input.email.trim(),
            emailKey: emailKey(input.email),
            emailVerified: input.emailVerified ?? false,
            givenName: input.givenName?.trim() || null,
            familyName: input.familyName?.trim() || null,
            passwordHash,
            passwordChangedAt: passwordHash ? new Date() : null,
            roles: [...defaultRoles],
          },
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') throw new DuplicateEmailError();
        throw error;
      }
    },

    findById,

    /** The account if it exists and is not disabled: what tokens and sessions may act for. */
    async findActiveById(id: string): Promise<User | null> {
      const user = await findById(id);
      return user && !user.disabledAt ? user : null;
    },

    findByEmail(email: string): Promise<User | null> {
      return prisma.user.findUnique({ where: { emailKey: emailKey(email) } });
    },

    /** Every account, oldest first; only those carrying `role` when given. */
    list({ role }: { role?: string } = {}): Promise<User[]> {
      return prisma.user.findMany({ where: role ? { roles: { has: role } } : {}, orderBy: { createdAt: 'asc' } });
    },

    /** Replaces the account's roles; null when there is no such account. */
    async setRoles(id: string, roles: readonly string[]): Promise<User | null> {
      forget(`user:${id}`);
      const { count } = await prisma.user.updateMany({ where: { id }, data: { roles: [...new Set(roles)] } });
      return count ? prisma.user.findUnique({ where: { id } }) : null;
    },

    /** Sets a new password hash; proving the inbox (reset link) also verifies the address. */
    async setPasswordHash(id: string, passwordHash: string, { verifyEmail = false } = {}): Promise<void> {
      forget(`user:${id}`);
      await prisma.user.update({
        where: { id },
        data: { passwordHash, passwordChangedAt: new Date(), ...(verifyEmail ? { emailVerified: true } : {}) },
      });
    },

    /** Marks the address verified, if it is still the one the proof was sent to. */
    async markEmailVerified(id: string, email: string): Promise<boolean> {
      forget(`user:${id}`);
      const { count } = await prisma.user.updateMany({ where: { id, emailKey: emailKey(email) }, data: { emailVerified: true } });
      return count === 1;
    },

    async setNames(id: string, names: { givenName: string; familyName: string }): Promise<void> {
      forget(`user:${id}`);
      await prisma.user.update({ where: { id }, data: { givenName: names.givenName.trim(), familyName: names.familyName.trim() } });
    },

    /**
     * Deletes the account and everything kept about it: sessions, grants and tokens, pending
     * links, Google links, consents and e-mail not yet sent to it. Its `sub` is never given again
     * (ids are random): an account registered later with the same address is another person.
     */
    async remove(id: string): Promise<User | null> {
      forget(`user:${id}`);
      const user = await prisma.user.findUnique({ where: { id } });
      if (!user) return null;
      await prisma.$transaction([
        revokeEverythingOf(prisma, id),
        prisma.mailMessage.deleteMany({ where: { recipient: user.email, status: 'pending' } }),
        // One-time tokens, federated identities and consents go with the row (ON DELETE CASCADE).
        prisma.user.delete({ where: { id } }),
      ]);
      return user;
    },

    async setDisabled(id: string, disabled: boolean): Promise<User | null> {
      forget(`user:${id}`);
      const { count } = await prisma.user.updateMany({ where: { id }, data: { disabledAt: disabled ? new Date() : null } });
      return count ? prisma.user.findUnique({ where: { id } }) : null;
    },

    /**
     * The account these credentials open, or null. Unknown e-mail, wrong password, no password
     * and disabled account are indistinguishable, in the answer and in the time it takes.
     */
    async authenticate(email: string, password: string): Promise<User | null> {
      const user = await prisma.user.findUnique({ where: { emailKey: emailKey(email) } });
      if (!user?.passwordHash) {
        await passwords.verifyDecoy(password);
        return null;
      }
      if (!(await passwords.verify(user.passwordHash, password)) || user.disabledAt) return null;
      if (passwords.needsRehash(user.passwordHash)) {
        forget(`user:${user.id}`);
        await prisma.user.update({ where: { id: user.id }, data: { passwordHash: await passwords.hash(password) } });
      }
      return user;
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
