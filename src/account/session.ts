// Who is signed in to the account page, checked on every request: the sealed cookie
// (app-session.ts) names an account and the Sésame session it signed in with; that session must
// still exist (signed out elsewhere, or ended from the sessions page: signed out here too) and
// the account must still be active. Otherwise the person goes through Sésame's /auth again and
// comes back to the page they were on.
//
// A change needs a recent sign-in (ACCOUNT_REAUTH_AGE): past it, /auth with prompt=login, then
// back to the page. A form sent too late is not replayed (it may hold a password): the page it
// came from says the change was not made and asks for it again.
import type Koa from 'koa';
import type { User } from '../accounts/users.ts';
import type { SecurityChange } from '../mail/compose.ts';
import { currentScope } from '../http/request-context.ts';
import type { AccountDeps } from './deps.ts';
import { ACCOUNT_CLIENT_ID } from './deps.ts';

export interface SignedInAccount {
  user: User;
  /** The ID token's per-client session id, when the provider gives one. */
  sid?: string;
  /** The Sésame session's row (provider-rows.ts). */
  uid: string;
  /** Seconds since the epoch. */
  authTime: number;
  amr: string[];
}

export interface AccountState {
  account: SignedInAccount;
}

export type AccountContext = Koa.ParameterizedContext<Koa.DefaultState & AccountState> & { params: Record<string, string> };

/** `/account/<section>`: the page a form belongs to (its POST path, or the page under it). */
export function pageOf(path: string): string {
  const [, root, section] = path.split('/');
  if (root !== 'account' || !section || !/^[a-z-]+$/.test(section)) return '/account';
  return `/account/${SHOWN_ON[section] ?? section}`;
}

/** Forms under a path that is not a page: the page that shows them. */
const SHOWN_ON: Record<string, string> = { passkeys: 'security' };

/** Only our own pages: `return` must never lead elsewhere (open redirect). */
export function safeReturn(value: unknown): string {
  return typeof value === 'string' && /^\/account(\/[a-z0-9-]*)*(\?[a-z0-9=&-]*)?$/.test(value) ? value : '/account';
}

export const signInPath = (returnTo: string, fresh = false) => `/account/sign-in?${new URLSearchParams({ return: returnTo, ...(fresh ? { fresh: '1' } : {}) })}`;

/** Whether the Sésame session the cookie names still exists. */
async function sessionAlive({ rows }: AccountDeps, sub: string, uid: string, sid: string | undefined): Promise<boolean> {
  if (sid) return (await rows.findSession(sub, { clientId: ACCOUNT_CLIENT_ID, sid })) === uid;
  return (await rows.sessionsOf(sub)).some((session) => session.uid === uid);
}

export function requireAccount(deps: AccountDeps): Koa.Middleware<AccountState> {
  return async (ctx, next) => {
    const session = deps.cookies.read(ctx as unknown as Koa.Context);
    const user = session && (await sessionAlive(deps, session.sub, session.uid, session.sid)) ? await deps.users.findActiveById(session.sub) : null;
    if (!session || !user) {
      if (session) deps.cookies.clear(ctx as unknown as Koa.Context);
      ctx.status = 303;
      // A form sent after the session ended is not made either: its page says so afterwards.
      return ctx.redirect(signInPath(ctx.method === 'GET' ? safeReturn(ctx.path) : `${pageOf(ctx.path)}?again=1`));
    }
    ctx.state.account = { user, sid: session.sid, uid: session.uid, authTime: session.authTime, amr: session.amr };
    await next();
  };
}

/** Whether the sign-in is recent enough for a change. */
export const signedInRecently = (deps: Pick<AccountDeps, 'reauthAge'>, account: Pick<SignedInAccount, 'authTime'>) =>
  Math.floor(Date.now() / 1000) - account.authTime <= deps.reauthAge;

/** After requireAccount. A form: back to its page afterwards, which says to send it again. */
export function requireRecentSignIn(deps: AccountDeps): Koa.Middleware<AccountState> {
  return async (ctx, next) => {
    if (signedInRecently(deps, ctx.state.account)) return next();
    ctx.status = 303;
    ctx.redirect(signInPath(ctx.method === 'GET' ? safeReturn(ctx.path) : `${pageOf(ctx.path)}?again=1`, true));
  };
}

/** A security-change notice to the account's address, in the language of the page it came from. */
export async function notify(deps: Pick<AccountDeps, 'mailer' | 'issuer'>, user: Pick<User, 'email'>, change: SecurityChange, values: Record<string, string> = {}): Promise<void> {
  const locale = currentScope()?.ctx.state.locale === 'fr' ? 'fr' : 'en';
  await deps.mailer.send({ kind: 'security-change', to: user.email, locale, values: { ...values, change, accountLink: `${deps.issuer}/account` } });
}
