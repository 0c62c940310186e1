// The one way in. Every first factor (password, an upstream identity such as Google, a passkey)
// and every second factor (authenticator app, recovery code, passkey) is checked here and ends
// in the same answer: who signed in and how (`amr`, RFC 8176), or a typed refusal. The
// interaction routes only translate HTTP to these calls and the answer back to a page.
//
// What each way keeps from before: a password attempt reserves its rate-limit slots before the
// password is checked, and unknown e-mail, wrong password and disabled account are one refusal
// in the same time (users.ts#authenticate); a second factor is limited per address and per
// account, counting only failures. Every outcome is audited: the password's and Google's by
// their services, the others here.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Identity } from '../federation/connector.ts';
import type { AuditTrail } from '../audit/trail.ts';
import { userActor } from '../audit/trail.ts';
import type { Mailer } from '../mail/index.ts';
import type { RateLimiter } from '../http/rate-limits.ts';
import type { FederatedAccounts } from './federated-accounts.ts';
import type { Passkeys } from './passkeys.ts';
import type { RecoveryCodes } from './recovery-codes.ts';
import type { Totp } from './totp.ts';
import type { User, UserService } from './users.ts';
import { emailKey } from './users.ts';

export type SignInOutcome = { kind: 'signed-in'; userId: string; amr: string[] } | { kind: 'refused'; reason: string };

/** An upstream sign-in may also need the person to prove the account its address belongs to. */
export type FederatedSignInOutcome =
  | { kind: 'signed-in'; userId: string; amr: string[]; created: boolean; reclaimed: boolean }
  | { kind: 'needs-proof'; user: User }
  | { kind: 'refused'; reason: string };

export interface PasswordAttempt {
  email: string;
  password: string;
  /** The client's network (http/client-network.ts): what the address limits count. */
  network: string;
  /** The device cookie's key for this account, when the browser shows one (http/device-cookies.ts). */
  device?: string;
}

export interface SignInDeps {
  users: UserService;
  federated: FederatedAccounts;
  passkeys: Passkeys;
  totp: Totp;
  recoveryCodes: RecoveryCodes;
  limits: RateLimiter;
  audit: AuditTrail;
  mailer: Mailer;
  issuer: string;
}

const refused = (reason: string): SignInOutcome => ({ kind: 'refused', reason });

export function createSignIn({ users, federated, passkeys, totp, recoveryCodes, limits, audit, mailer, issuer }: SignInDeps) {
  const secondFactor = (userId: string, method: string, succeeded: boolean, reason?: string) =>
    audit.record({
      action: succeeded ? 'second-factor.succeeded' : 'second-factor.failed',
      target: userId,
      userId,
      ...(succeeded ? { actor: userActor(userId) } : {}),
      details: { method, ...(reason ? { reason } : {}) },
    });

  /** Checks a second factor under its limits (when the request's network is given): only a failure keeps its slot. */
  const limited = async <T>(userId: string, network: string | undefined, check: () => Promise<T>): Promise<T> => {
    const attempt = network === undefined ? undefined : await limits.attemptSecondFactor(network, userId);
    const result = await check();
    if (result) await attempt?.succeeded();
    return result;
  };

  return {
    /** E-mail and password. Throws TooManyAttemptsError (nothing checked) when a limit is reached. */
    async password({ email, password, network, device }: PasswordAttempt): Promise<SignInOutcome> {
      const attempt = await limits.attemptSignIn(network, emailKey(email), device);
      const user = await users.authenticate(email, password);
      if (!user) return refused('credentials');
      await attempt.succeeded();
      return { kind: 'signed-in', userId: user.id, amr: ['pwd'] };
    },

    /** An identity an upstream provider vouched for (accounts/federated-accounts.ts has the rules). */
    async federated(identity: Identity, allowedDomains: readonly string[]): Promise<FederatedSignInOutcome> {
      const outcome = await federated.resolve(identity, allowedDomains);
      if (outcome.kind !== 'signed-in') return outcome;
      return { kind: 'signed-in', userId: outcome.userId, amr: ['fed'], created: outcome.created, reclaimed: outcome.reclaimed };
    },

    /**
     * A passkey: on its own (no `userId`; user verification required, so it is two factors and
     * says `mfa`), or as the second factor of `userId`.
     */
    async passkey(response: AuthenticationResponseJSON, { userId, interactionUid }: { userId?: string; interactionUid?: string } = {}): Promise<SignInOutcome> {
      const proven = await passkeys.authenticate(response, { userId, interactionUid });
      if (userId) {
        secondFactor(userId, 'passkey', proven !== null, proven ? undefined : 'not-verified');
        return proven ? { kind: 'signed-in', userId, amr: [proven.amr] } : refused('passkey');
      }
      if (!proven) {
        audit.record({ action: 'sign-in.failed', target: 'passkey', details: { method: 'passkey', reason: 'not-verified' } });
        return refused('passkey');
      }
      audit.record({ action: 'sign-in.succeeded', target: proven.userId, userId: proven.userId, actor: userActor(proven.userId), details: { method: 'passkey' } });
      return { kind: 'signed-in', userId: proven.userId, amr: [proven.amr, 'mfa'] };
    },

    /** A code of the account's authenticator app, accepted once. */
    async totp(userId: string, code: string, { network }: { network?: string } = {}): Promise<SignInOutcome> {
      const ok = await limited(userId, network, () => totp.verify(userId, code));
      secondFactor(userId, 'totp', ok, ok ? undefined : 'wrong-code');
      return ok ? { kind: 'signed-in', userId, amr: ['otp'] } : refused('code');
    },

    /** The first code of an authenticator app enrolled during a sign-in: it is then on. */
    async confirmTotp(userId: string, code: string, { network }: { network?: string } = {}): Promise<SignInOutcome> {
      const ok = await limited(userId, network, () => totp.confirm(userId, code));
      secondFactor(userId, 'totp-enrolment', ok, ok ? undefined : 'wrong-code');
      if (!ok) return refused('code');
      audit.record({ action: 'totp.enabled', target: userId, userId, actor: userActor(userId) });
      return { kind: 'signed-in', userId, amr: ['otp'] };
    },

    /** One of the account's recovery codes, spent; its owner is told by e-mail. */
    async recoveryCode(userId: string, code: string, { network, locale = 'en' }: { network?: string; locale?: 'en' | 'fr' } = {}): Promise<SignInOutcome> {
      const used = await limited(userId, network, () => recoveryCodes.use(userId, code));
      secondFactor(userId, 'recovery-code', used !== null, used ? undefined : 'wrong-code');
      if (!used) return refused('code');
      const user = await users.findById(userId);
      if (user) {
        await mailer.send({ kind: 'security-change', to: user.email, locale, values: { change: 'recovery-code-used', remaining: String(used.remaining), accountLink: `${issuer}/account` } });
      }
      // Something held, but not a device: RFC 8176 has no closer value than otp for a code kept apart.
      return { kind: 'signed-in', userId, amr: ['otp'] };
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
