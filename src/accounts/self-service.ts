// What people do for themselves: register, confirm their address, reset a forgotten password.
// Every answer is the same whether or not an account exists (the e-mail goes to the owner, or
// nowhere), and every e-mail is queued, not awaited, so timing tells nothing either. Links are
// built from ISSUER only, never from the request.
import type { Prisma } from '../db/database.ts';
import type { Mailer } from '../mail/index.ts';
import type { Locale } from '../i18n/index.ts';
import { keepSignInGoing, revokeEverythingOf } from '../oidc/account-revocation.ts';
import type { OneTimeTokens } from './one-time-tokens.ts';
import type { PasswordHasher } from './passwords.ts';
import type { Identity } from '../federation/connector.ts';
import { passwordProblem } from './password-policy.ts';
import type { PasswordProblem } from './password-policy.ts';
import { DuplicateEmailError, emailKey } from './users.ts';
import type { User, UserService } from './users.ts';

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
}

/** Where the person was when they asked: their language, and the sign-in to continue. */
export interface Origin {
  locale: Locale;
  interactionUid?: string;
}

export type ResetOutcome = { outcome: 'changed'; interactionUid: string | null } | { outcome: 'invalid' } | { outcome: PasswordProblem };

export function createSelfService({ prisma, users, passwords, tokens, mailer, issuer }: SelfServiceDeps) {
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
      if (owner) {
        await passwords.hash(input.password); // the same cost as creating an account
        return tellOwner(owner, origin);
      }
      try {
        const user = await users.create({ ...input, emailVerified: false });
        await sendVerification(user, origin);
      } catch (error) {
        if (!(error instanceof DuplicateEmailError)) throw error;
        const winner = await users.findByEmail(input.email);
        if (winner) await tellOwner(winner, origin);
      }
    },

    /** Uses a confirmation link. Null when it is unknown, used, expired, or the address has changed since. */
    async verifyEmail(raw: unknown): Promise<{ interactionUid: string | null } | null> {
      const token = await tokens.use(raw, 'verify-email');
      if (!token || !(await users.markEmailVerified(token.userId, token.email))) return null;
      return { interactionUid: token.interactionUid };
    },

    async requestReset(email: string, origin: Origin): Promise<void> {
      const user = await users.findByEmail(email);
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
      const problem = passwordProblem(password, { email: pending.email });
      if (problem) return { outcome: problem };
      const hash = await passwords.hash(password);
      const token = await tokens.use(raw, 'reset-password');
      const user = token ? await users.findById(token.userId) : null;
      if (!token || !user || user.disabledAt || emailKey(user.email) !== emailKey(token.email)) return { outcome: 'invalid' };
      await users.setPasswordHash(user.id, hash, { verifyEmail: true });
      await tokens.cancel(user.id);
      await prisma.$transaction([...revokeEverythingOf(prisma, user.id)]);
      if (token.interactionUid) await keepSignInGoing(prisma, token.interactionUid, user.id);
      await mailer.send({ kind: 'password-changed', to: user.email, locale: origin.locale, values: { resetLink: link('/account/forgot') } });
      return { outcome: 'changed', interactionUid: token.interactionUid };
    },
  };
}

export type SelfService = ReturnType<typeof createSelfService>;
