// Which steps a sign-in goes through, in order. oidc-provider decides the next one from these
// checks; src/interactions renders whichever it asks for.
//   login         → who is it (password, or later an upstream identity provider)
//   verify_email  → the account's address is confirmed (unless ALLOW_UNVERIFIED_EMAIL_SIGN_IN)
//   profile       → the account has a given and a family name
//   consent       → the person agreed to what the app asks (skipped for first-party apps)
import { interactionPolicy } from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { User, UserService } from '../accounts/users.ts';

const { Check, Prompt, base } = interactionPolicy;

export function createInteractionPolicy({ users, allowUnverifiedEmail }: { users: UserService; allowUnverifiedEmail: boolean }) {
  // Both checks need the account: load it once per request.
  const accounts = new WeakMap<KoaContextWithOIDC, Promise<User | null>>();
  const account = (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return Promise.resolve(null);
    if (!accounts.has(ctx)) accounts.set(ctx, users.findById(accountId));
    return accounts.get(ctx)!;
  };

  const policy = base();
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
