// What an upstream identity (Google) may do to Sésame accounts. The rules, in order:
//   1. Identities are keyed on (provider, subject), never on the e-mail address.
//   2. A Workspace domain restriction refuses accounts outside it (the `hd` claim and the address).
//   3. A known identity signs in to the account it is linked to (unless that account is disabled).
//   4. A new identity whose address has no account creates one (verified only if the upstream
//      says so; names and picture from the upstream).
//   5. A new identity whose address has an account is linked only if the upstream has verified
//      the address, and then:
//      - if the account's own address was never verified, it is reclaimed: its password,
//        sessions, tokens, pending links and consents to apps are dropped (a squatter who
//        registered someone else's address beforehand loses it), then the identity is linked;
//      - otherwise only after the person proves control of the account (its password, or a
//        link sent to its address): "needs-proof".
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import type { Identity } from '../federation/connector.ts';
import { revokeEverythingOf } from '../oidc/provider-rows.ts';
import { recordEvent } from '../webhooks/events.ts';
import { userView } from './user-view.ts';
import { forget, settleDeferred } from '../db/request-memo.ts';
import { emailKey, isEmailAddress } from './users.ts';
import type { User, UserService } from './users.ts';
import { userActor } from '../audit/trail.ts';
import type { AuditTrail } from '../audit/trail.ts';

export type FederatedOutcome =
  | { kind: 'signed-in'; userId: string; created: boolean; reclaimed: boolean }
  | { kind: 'needs-proof'; user: User }
  | { kind: 'refused'; reason: 'domain' | 'unverified-email' | 'disabled' | 'no-email'; userId?: string };

export function domainAllowed(identity: Identity, allowedDomains: readonly string[]): boolean {
  if (!allowedDomains.length) return true;
  const emailDomain = identity.email?.split('@').pop()?.toLowerCase();
  return identity.hostedDomain !== undefined && allowedDomains.includes(identity.hostedDomain) && emailDomain === identity.hostedDomain;
}

/** How the audit trail names an upstream identity: its address, else provider and subject. */
const identityTarget = (identity: { provider: string; subject: string; email?: string | null }) =>
  identity.email ? emailKey(identity.email) : `${identity.provider}:${identity.subject}`;

export function createFederatedAccounts({ prisma, users, audit }: { prisma: Prisma; users: UserService; audit: AuditTrail }) {
  const names = (identity: Identity) => ({
    givenName: identity.givenName ?? null,
    familyName: identity.familyName ?? null,
    picture: identity.picture ?? null,
  });

  const link = (userId: string, identity: Identity) =>
    prisma.federatedIdentity.create({ data: { provider: identity.provider, subject: identity.subject, userId, email: identity.email ?? null, lastUsedAt: new Date() } });

  const decide = async (identity: Identity, allowedDomains: readonly string[], attempt = 0): Promise<FederatedOutcome> => {
    if (!domainAllowed(identity, allowedDomains)) return { kind: 'refused', reason: 'domain' };

    const known = await prisma.federatedIdentity.findUnique({
      where: { provider_subject: { provider: identity.provider, subject: identity.subject } },
      include: { user: true },
    });
    if (known) {
      if (known.user.disabledAt) return { kind: 'refused', reason: 'disabled', userId: known.userId };
      await prisma.federatedIdentity.update({ where: { provider_subject: { provider: identity.provider, subject: identity.subject } }, data: { lastUsedAt: new Date() } });
      return { kind: 'signed-in', userId: known.userId, created: false, reclaimed: false };
    }

    if (!identity.email || !isEmailAddress(identity.email)) return { kind: 'refused', reason: 'no-email' };
    const existing = await users.findByEmail(identity.email);
    if (!existing) {
      try {
        const userId = randomUUID();
        await prisma.$transaction(async (tx) => {
          const user = await tx.user.create({
            data: {
              id: userId,
              email: identity.email!,
              emailKey: emailKey(identity.email!),
              emailVerified: identity.emailVerified,
              roles: [...users.defaultRoles],
              ...names(identity),
              identities: { create: { provider: identity.provider, subject: identity.subject, email: identity.email, lastUsedAt: new Date() } },
            },
          });
          await recordEvent(tx, 'user.created', userView(user));
        });
        return { kind: 'signed-in', userId, created: true, reclaimed: false };
      } catch (error) {
        // Someone else created this address or linked this identity meanwhile: decide again.
        if ((error as { code?: string }).code === 'P2002' && attempt === 0) return decide(identity, allowedDomains, 1);
        throw error;
      }
    }
    if (existing.disabledAt) return { kind: 'refused', reason: 'disabled', userId: existing.id };
    if (!identity.emailVerified) return { kind: 'refused', reason: 'unverified-email', userId: existing.id };
    if (existing.emailVerified) return { kind: 'needs-proof', user: existing };

    // Reclaim: whoever registered this unverified address never proved it; Google has.
    forget(`user:${existing.id}`);
    // The account as apps will see it, announced in the same transaction (updated_at: now).
    const reclaimed = { ...existing, emailVerified: true, email: identity.email, ...names(identity), updatedAt: new Date() };
    // The sign-in request may hold oidc-provider's writes: made first, so none brings a row back.
    await settleDeferred();
    await prisma.$transaction([
      prisma.user.update({
        where: { id: existing.id },
        data: { passwordHash: null, passwordChangedAt: new Date(), emailVerified: true, email: identity.email, ...names(identity), updatedAt: reclaimed.updatedAt },
      }),
      recordEvent(prisma, 'user.updated', userView(reclaimed)),
      prisma.oneTimeToken.deleteMany({ where: { userId: existing.id } }),
      // What the squatter allowed apps to see was never the owner's choice.
      prisma.consent.deleteMany({ where: { userId: existing.id } }),
      prisma.federatedIdentity.deleteMany({ where: { userId: existing.id } }),
      prisma.federatedIdentity.create({ data: { provider: identity.provider, subject: identity.subject, userId: existing.id, email: identity.email, lastUsedAt: new Date() } }),
      ...revokeEverythingOf(prisma, existing.id),
    ]);
    return { kind: 'signed-in', userId: existing.id, created: false, reclaimed: true };
  };

  /** The audit trail's account of a sign-in through `identity` (needs-proof: not over yet). */
  const recordOutcome = (identity: Identity, outcome: FederatedOutcome) => {
    const target = identityTarget(identity);
    const method = identity.provider;
    if (outcome.kind === 'refused') {
      audit.record({ action: 'sign-in.failed', target, userId: outcome.userId ?? null, details: { method, reason: outcome.reason } });
    } else if (outcome.kind === 'signed-in') {
      const actor = userActor(outcome.userId);
      if (outcome.created) audit.record({ action: 'registration.created', target, userId: outcome.userId, actor, details: { method } });
      if (outcome.reclaimed) audit.record({ action: 'identity.linked', target, userId: outcome.userId, actor, details: { provider: method, subject: identity.subject, reclaimed: true } });
      audit.record({ action: 'sign-in.succeeded', target, userId: outcome.userId, actor, details: { method } });
    }
  };

  return {
    async resolve(identity: Identity, allowedDomains: readonly string[]): Promise<FederatedOutcome> {
      const outcome = await decide(identity, allowedDomains);
      recordOutcome(identity, outcome);
      return outcome;
    },

    /**
     * Links `identity` to an account whose owner has proved control of it. True if it is now
     * linked to that account (a second proof, say the e-mailed link after the password, is fine);
     * false if it is already another account's.
     */
    async linkProven(userId: string, identity: Identity): Promise<boolean> {
      try {
        await link(userId, identity);
        audit.record({
          action: 'identity.linked',
          target: identityTarget(identity),
          userId,
          actor: userActor(userId),
          details: { provider: identity.provider, subject: identity.subject },
        });
        return true;
      } catch (error) {
        if ((error as { code?: string }).code !== 'P2002') throw error;
        const current = await prisma.federatedIdentity.findUnique({ where: { provider_subject: { provider: identity.provider, subject: identity.subject } } });
        return current?.userId === userId;
      }
    },

    /** The upstream accounts linked to the account (the account page lists them). */
    async linkedTo(userId: string): Promise<{ provider: string; email: string | null }[]> {
      return prisma.federatedIdentity.findMany({ where: { userId }, select: { provider: true, email: true }, orderBy: { createdAt: 'asc' } });
    },

    /** Unlinks the account's sign-ins at `provider` (the admin CLI); returns the subjects unlinked. */
    async unlink(userId: string, provider: string): Promise<string[]> {
      const linked = await prisma.federatedIdentity.findMany({ where: { userId, provider } });
      await prisma.federatedIdentity.deleteMany({ where: { userId, provider, subject: { in: linked.map((identity) => identity.subject) } } });
      for (const identity of linked) {
        audit.record({ action: 'identity.unlinked', target: identityTarget(identity), userId, details: { provider, subject: identity.subject } });
      }
      return linked.map((identity) => identity.subject);
    },
  };
}

export type FederatedAccounts = ReturnType<typeof createFederatedAccounts>;
