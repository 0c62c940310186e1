// Which steps a sign-in goes through, in order. oidc-provider decides the next one from these
// checks; src/interactions renders whichever it asks for.
//   login         → who is it (password, Google, a passkey), and a second factor when one is
//                   needed (mfaDemanded, or the account has one): a session signed in with one
//                   factor comes back here for the second (src/interactions/sign-in-result.ts)
//   verify_email  → the account's address is confirmed (unless ALLOW_UNVERIFIED_EMAIL_SIGN_IN)
//   profile       → the account has a given and a family name
//   consent       → the person agreed to what the app asks (skipped for first-party apps)
import { interactionPolicy } from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { User, UserService } from '../accounts/users.ts';
import type { Factors } from '../accounts/factors.ts';
import { hasSecondFactor } from '../accounts/factors.ts';
import { asksForMfa, isMultiFactor } from './acr.ts';

const { Check, Prompt, base } = interactionPolicy;

/** The login step's reason when the session has one factor and needs two. */
export const MFA_MISSING = 'mfa_required';
/** Reasons that ask for nothing but a second factor (the session's account is kept). */
export const ONLY_MFA_MISSING: readonly string[] = [MFA_MISSING];

/** True when every sign-in here needs two factors: by setting, by the app, or by the request. */
export function mfaDemanded({ mfaRequired, client, acrValues }: { mfaRequired: boolean; client?: { metadata(): Record<string, unknown> } | null; acrValues: unknown }): boolean {
  return mfaRequired || client?.metadata().require_mfa === true || asksForMfa(acrValues);
}

export interface PolicyDeps {
  users: UserService;
  allowUnverifiedEmail: boolean;
  /** MFA_REQUIRED, and what second factors an account has; without them no second factor is ever asked. */
  mfaRequired?: boolean;
  factors?: Pick<Factors, 'factorsOf'>;
}

export function createInteractionPolicy({ users, allowUnverifiedEmail, mfaRequired = false, factors }: PolicyDeps) {
  // Both checks need the account: load it once per request.
  const accounts = new WeakMap<KoaContextWithOIDC, Promise<User | null>>();
  const account = (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return Promise.resolve(null);
    if (!accounts.has(ctx)) accounts.set(ctx, users.findById(accountId));
    return accounts.get(ctx)!;
  };

  const policy = base();
  if (factors) {
    // A session signed in with one factor, where two are needed now: the login step again, which
    // asks only for the second (the account is the session's).
    policy.get('login')!.checks.push(
      new Check(MFA_MISSING, 'a second factor is needed', async (ctx) => {
        const { session, client, params } = ctx.oidc;
        if (!session?.accountId || isMultiFactor((session.amr as string[] | undefined) ?? [])) return false;
        if (mfaDemanded({ mfaRequired, client, acrValues: params?.acr_values })) return true;
        return hasSecondFactor(await factors.factorsOf(session.accountId));
      }),
    );
  }
  const consentAt = policy.findIndex((prompt) => prompt.name === 'consent');
  const steps = [
    ...(allowUnverifiedEmail
      ? []
      : [
          new Prompt(
            { name: 'verify_email', requestable: false },
            new Check('email_not_verified', 'the e-mail address of the account is not verified', async (ctx) => {
              const user = await account(ctx);
              return user !== null && !user.emailVerified;
            }),
          ),
        ]),
    new Prompt(
      { name: 'profile', requestable: false },
      new Check('names_missing', 'the account has no given or family name', async (ctx) => {
        const user = await account(ctx);
        return user !== null && (!user.givenName || !user.familyName);
      }),
    ),
  ];
  policy.splice(consentAt, 0, ...steps);
  return policy;
}
