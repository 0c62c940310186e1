// Local accounts: unique case-insensitive e-mail, argon2id password, names, verified flag.
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import type { Prisma as Sql, User } from '../generated/prisma/client.ts';
import type { PasswordHasher } from './passwords.ts';
import { forget, memoized, settleDeferred } from '../db/request-memo.ts';
import { revokeEverythingOf } from '../oidc/provider-rows.ts';
import { recordEvent } from '../webhooks/events.ts';
import { tombstoneView, userView, visiblyChanged } from './user-view.ts';
import { userActor } from '../audit/trail.ts';
import type { AuditTrail } from '../audit/trail.ts';

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
  /** Where sign-ins by password are recorded. */
  audit: AuditTrail;
}

export function createUserService(prisma: Prisma, passwords: PasswordHasher, { defaultRoles, audit }: UserServiceOptions) {
  // Read once per request (db/request-memo.ts); every write below forgets the account.
  const findById = (id: string): Promise<User | null> => memoized(`user:${id}`, () => prisma.user.findUnique({ where: { id } }));

  /**
   * Applies what `change` makes of the account (null: refuse) and, in the same transaction,
   * announces user.updated if apps see a difference. A change to nothing is not written at all,
   * so it moves neither updated_at nor the users feed. Null when there is no such account.
   * `alongside` adds statements to the same transaction (when the change is not refused).
   */
  const update = (
    id: string,
    change: (user: User) => Sql.UserUpdateInput | null,
    alongside?: (tx: Sql.TransactionClient) => Sql.PrismaPromise<unknown>[],
  ): Promise<{ user: User; changed: boolean } | null> => {
    forget(`user:${id}`);
    return prisma.$transaction(async (tx) => {
      const before = await tx.user.findUnique({ where: { id } });
      const data = before && change(before);
      if (!before || !data) return null;
      for (const statement of alongside?.(tx) ?? []) await statement;
      if (Object.entries(data).every(([key, value]) => JSON.stringify(before[key as keyof User]) === JSON.stringify(value))) return { user: before, changed: false };
      const user = await tx.user.update({ where: { id }, data });
      const changed = visiblyChanged(before, user);
      if (changed) await recordEvent(tx, 'user.updated', userView(user));
      return { user, changed };
    });
  };

  return {
    defaultRoles,

    async create(input: NewUser): Promise<User> {
      const passwordHash = input.password === undefined ? null : await passwords.hash(input.password);
      try {
        return await prisma.$transaction(async (tx) => {
          const user = await tx.user.create({
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
          await recordEvent(tx, 'user.created', userView(user));
          return user;
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
      return (await update(id, () => ({ roles: [...new Set(roles)] })))?.user ?? null;
    },

    /** Sets a new password hash; proving the inbox (reset link) also verifies the address. */
    async setPasswordHash(id: string, passwordHash: string, { verifyEmail = false } = {}): Promise<void> {
      await update(id, () => ({ passwordHash, passwordChangedAt: new Date(), ...(verifyEmail ? { emailVerified: true } : {}) }));
    },

    /** Marks the address verified, if it is still the one the proof was sent to. */
    async markEmailVerified(id: string, email: string): Promise<boolean> {
      return (await update(id, (user) => (user.emailKey === emailKey(email) ? { emailVerified: true } : null))) !== null;
    },

    /**
     * Moves the account to `email`, proven by a link sent there (the account page), if it still
     * has the address `from` the change was asked from. False when it has not, or when the new
     * address belongs to another account by now.
     */
    async changeEmail(id: string, from: string, email: string): Promise<boolean> {
      try {
        const result = await update(id, (user) => (user.emailKey === emailKey(from) ? { email: email.trim(), emailKey: emailKey(email), emailVerified: true } : null));
        return result !== null;
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') return false;
        throw error;
      }
    },

    async setNames(id: string, names: { givenName: string; familyName: string }): Promise<void> {
      await update(id, () => ({ givenName: names.givenName.trim(), familyName: names.familyName.trim() }));
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
      const tombstone = { id, externalId: user.externalId, deletedAt: new Date() };
      await settleDeferred();
      await prisma.$transaction([
        ...revokeEverythingOf(prisma, id),
        prisma.mailMessage.deleteMany({ where: { recipient: user.email, status: 'pending' } }),
        // One-time tokens, federated identities and consents go with the row (ON DELETE CASCADE).
        prisma.user.delete({ where: { id } }),
        // What the users feed tells apps, so they remove their copy too.
        prisma.userTombstone.create({ data: tombstone }),
        recordEvent(prisma, 'user.deleted', tombstoneView(tombstone)),
      ]);
      return user;
    },

    /** Disabling also ends the account's sessions and tokens, apps told by back-channel logout, in the same transaction. */
    async setDisabled(id: string, disabled: boolean): Promise<User | null> {
      if (disabled) await settleDeferred();
      const revoke = disabled ? (tx: Sql.TransactionClient) => revokeEverythingOf(tx, id) : undefined;
      return (await update(id, (user) => (Boolean(user.disabledAt) === disabled ? {} : { disabledAt: disabled ? new Date() : null }), revoke))?.user ?? null;
    },

    /**
     * The account these credentials open, or null. Unknown e-mail, wrong password, no password
     * and disabled account are indistinguishable, in the answer and in the time it takes. Each
     * attempt leaves one row in the audit trail, recorded the same way whatever the outcome.
     */
    async authenticate(email: string, password: string): Promise<User | null> {
      const target = emailKey(email);
      const failed = (reason: string, userId: string | null = null) => {
        audit.record({ action: 'sign-in.failed', target, userId, details: { method: 'password', reason } });
        return null;
      };
      const user = await prisma.user.findUnique({ where: { emailKey: target } });
      if (!user?.passwordHash) {
        await passwords.verifyDecoy(password);
        return failed(user ? 'no-password' : 'unknown-account', user?.id);
      }
      if (!(await passwords.verify(user.passwordHash, password))) return failed('wrong-password', user.id);
      if (user.disabledAt) return failed('disabled', user.id);
      audit.record({ action: 'sign-in.succeeded', target, userId: user.id, actor: userActor(user.id), details: { method: 'password' } });
      if (passwords.needsRehash(user.passwordHash)) {
        forget(`user:${user.id}`);
        // Only if the account did not change meanwhile (a reset must not be undone by the old
        // password), and without moving updated_at: apps see nothing new, the users feed neither.
        const unchanged = { id: user.id, passwordHash: user.passwordHash, updatedAt: user.updatedAt };
        await prisma.user.updateMany({ where: unchanged, data: { passwordHash: await passwords.hash(password), updatedAt: user.updatedAt } });
      }
      return user;
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
