// What people do for themselves: register, confirm their address, reset a forgotten password.
// Every answer is the same whether or not an account exists (the e-mail goes to the owner, or
// nowhere), and every e-mail is queued, not awaited, so timing tells nothing either. Links are
// built from ISSUER only, never from the request.
import type { Prisma } from '../db/database.ts';
import type { Mailer } from '../mail/index.ts';
import type { Locale } from '../i18n/index.ts';
import { keepSignInGoing, proposeAddress, revokeEverythingOf } from '../oidc/provider-rows.ts';
import { settleDeferred } from '../db/request-memo.ts';
import type { OneTimeTokens } from './one-time-tokens.ts';
import type { PasswordHasher } from './passwords.ts';
import type { Identity } from '../federation/connector.ts';
import { passwordProblem } from './password-policy.ts';
import type { PasswordProblem } from './password-policy.ts';
import { DuplicateEmailError, emailKey } from './users.ts';
import type { User, UserService } from './users.ts';
import { userActor } from '../audit/trail.ts';
import type { AuditTrail } from '../audit/trail.ts';

export const VERIFY_EMAIL_TTL = 24 * 3600;
export const RESET_PASSWORD_TTL = 15 * 60;
export const LINK_ACCOUNT_TTL = 30 * 60;

export interface SelfServiceDeps {
  prisma: Prisma;
  users: UserService;
  passwords: PasswordHasher;
  tokens: OneTimeTokens;
  mailer: Mailer;
  issuer: string;
  audit: AuditTrail;
}

/** Where the person was when they asked: their language, and the sign-in to continue. */
export interface Origin {
  locale: Locale;
  interactionUid?: string;
}

export type ResetOutcome = { outcome: 'changed'; interactionUid: string | null } | { outcome: 'invalid' } | { outcome: 'refused'; problem: PasswordProblem };

export function createSelfService({ prisma, users, passwords, tokens, mailer, issuer, audit }: SelfServiceDeps) {
  const link = (path: string, token?: string) => `${issuer}${path}${token ? `?token=${token}` : ''}`;

  const tellOwner = (owner: User, origin: Origin) =>
    mailer.send({
      kind: 'already-registered',
      to: owner.email,
      locale: origin.locale,
      values: { signInLink: link('/'), resetLink: link('/account/forgot') },
    });

  const sendVerification = async (user: User, origin: Origin) => {
    const token = await tokens.issue({ userId: user.id, purpose: 'verify-email', email: user.email, ttlSeconds: VERIFY_EMAIL_TTL, interactionUid: origin.interactionUid });
    await mailer.send({ kind: 'verify-email', to: user.email, locale: origin.locale, values: { link: link('/account/verify', token), name: user.givenName ?? '' } });
  };

  return {
    sendVerification,

    /** Creates an unverified account and sends the confirmation link; for a taken address, tells its owner instead. */
    async register(input: { email: string; password: string; givenName: string; familyName: string }, origin: Origin): Promise<void> {
      const owner = await users.findByEmail(input.email);
      const refused = (userId: string) => audit.record({ action: 'registration.refused', target: emailKey(input.email), userId, details: { method: 'password', reason: 'address-taken' } });
      if (owner) {
        refused(owner.id);
        await passwords.hash(input.password); // the same cost as creating an account
        return tellOwner(owner, origin);
      }
      try {
        const user = await users.create({ ...input, emailVerified: false });
        audit.record({ action: 'registration.created', target: user.emailKey, userId: user.id, details: { method: 'password' } });
        await sendVerification(user, origin);
      } catch (error) {
        if (!(error instanceof DuplicateEmailError)) throw error;
        const winner = await users.findByEmail(input.email);
        if (winner) {
          refused(winner.id);
          await tellOwner(winner, origin);
        }
      }
    },

    /** Uses a confirmation link. Null when it is unknown, used, expired, or the address has changed since. */
    async verifyEmail(raw: unknown): Promise<{ interactionUid: string | null } | null> {
      const token = await tokens.use(raw, 'verify-email');
      if (!token || !(await users.markEmailVerified(token.userId, token.email))) return null;
      if (token.interactionUid) await proposeAddress(prisma, token.interactionUid, token.email);
      audit.record({ action: 'email.verified', target: emailKey(token.email), userId: token.userId, actor: userActor(token.userId) });
      return { interactionUid: token.interactionUid };
    },

    /** The confirmation link again, to an account still unconfirmed; a confirmed one's owner is told instead. */
    async resendVerification(email: string, origin: Origin): Promise<void> {
      const user = await users.findByEmail(email);
      if (!user || user.disabledAt) return;
      if (user.emailVerified) return tellOwner(user, origin);
      await sendVerification(user, origin);
    },

    async requestReset(email: string, origin: Origin): Promise<void> {
      const user = await users.findByEmail(email);
      audit.record({ action: 'password.reset-requested', target: emailKey(email), userId: user?.id ?? null, details: { sent: Boolean(user && !user.disabledAt) } });
      if (!user || user.disabledAt) return;
      const token = await tokens.issue({ userId: user.id, purpose: 'reset-password', email: user.email, ttlSeconds: RESET_PASSWORD_TTL, interactionUid: origin.interactionUid });
      await mailer.send({ kind: 'reset-password', to: user.email, locale: origin.locale, values: { link: link('/account/reset', token) } });
    },

    /** E-mails the owner of `user` a link that links `identity` to the account once followed. */
    async sendLinkConfirmation(user: User, identity: Identity, providerName: string, origin: Origin): Promise<void> {
      const token = await tokens.issue({
        userId: user.id,
        purpose: 'link-account',
        email: user.email,
        ttlSeconds: LINK_ACCOUNT_TTL,
        interactionUid: origin.interactionUid,
        payload: { identity, providerName },
      });
      await mailer.send({ kind: 'link-account', to: user.email, locale: origin.locale, values: { link: link('/account/link', token), provider: providerName } });
    },

    /** Uses a link-account link: the identity to link and to whom, or null. */
    async takeLinkConfirmation(raw: unknown): Promise<{ userId: string; identity: Identity; providerName: string; interactionUid: string | null } | null> {
      const token = await tokens.use(raw, 'link-account');
      const user = token ? await users.findById(token.userId) : null;
      if (!token || !user || user.disabledAt || emailKey(user.email) !== emailKey(token.email)) return null;
      const { identity, providerName } = token.payload as { identity: Identity; providerName: string };
      return { userId: user.id, identity, providerName, interactionUid: token.interactionUid };
    },

    /**
     * Sets the new password behind a reset link, then ends every session and token of the
     * account, cancels its other links and tells the owner. The link works once.
     */
    async resetPassword(raw: unknown, password: string, origin: Origin): Promise<ResetOutcome> {
      const pending = await tokens.peek(raw, 'reset-password');
      if (!pending) return { outcome: 'invalid' };
      const owner = await users.findById(pending.userId);
      const problem = await passwordProblem(password, { email: pending.email, givenName: owner?.givenName, familyName: owner?.familyName });
      if (problem) return { outcome: 'refused', problem };
      const hash = await passwords.hash(password);
      const token = await tokens.use(raw, 'reset-password');
      const user = token ? await users.findById(token.userId) : null;
      if (!token || !user || user.disabledAt || emailKey(user.email) !== emailKey(token.email)) return { outcome: 'invalid' };
      await users.setPasswordHash(user.id, hash, { verifyEmail: true });
      audit.record({ action: 'password.reset', target: user.emailKey, userId: user.id, actor: userActor(user.id) });
      await tokens.cancel(user.id);
      await settleDeferred();
      await prisma.$transaction([...revokeEverythingOf(prisma, user.id)]);
      if (token.interactionUid) {
        await keepSignInGoing(prisma, token.interactionUid, user.id);
        await proposeAddress(prisma, token.interactionUid, user.email);
      }
      await mailer.send({ kind: 'password-changed', to: user.email, locale: origin.locale, values: { resetLink: link('/account/forgot') } });
      return { outcome: 'changed', interactionUid: token.interactionUid };
    },
  };
}

export type SelfService = ReturnType<typeof createSelfService>;
