// What every account page shows around its section: who is signed in, the sections, a way to
// sign out, what the last change did (a redirect after a POST says it with `?done=`), and, after
// a sign-in asked again for a change, that the change was not made yet.
import type { MessageKey } from '../i18n/index.ts';
import type { AccountContext } from './session.ts';
import type { AccountDeps } from './deps.ts';

export const SECTIONS = ['names', 'email', 'password', 'linked', 'security', 'sessions', 'apps'] as const;

/** The messages `?done=` may name: anything else shows nothing. */
const DONE = [
  'names-saved', 'email-sent', 'password-changed', 'password-set', 'linked', 'unlinked', 'totp-enabled', 'totp-removed',
  'session-ended', 'others-ended', 'app-revoked',
] as const;

export const done = (section: string, what: (typeof DONE)[number]) => `/account${section ? `/${section}` : ''}?done=${what}`;

export function renderAccount(ctx: AccountContext, deps: AccountDeps, template: string, model: Record<string, unknown> = {}, status = 200): void {
  const t = ctx.state.t;
  const { user } = ctx.state.account;
  const doneKey = typeof ctx.query.done === 'string' && (DONE as readonly string[]).includes(ctx.query.done) ? ctx.query.done : undefined;
  deps.views.render(ctx as never, `account/${template}`, {
    ...model,
    csrfToken: deps.csrf.token(ctx as never),
    account: { name: [user.givenName, user.familyName].filter(Boolean).join(' '), email: user.email },
    sections: SECTIONS.map((section) => ({ href: `/account/${section}`, text: t(`account.nav.${section}` as MessageKey), current: ctx.path === `/account/${section}` })),
    overview: ctx.path === '/account',
    again: ctx.query.again === '1',
    done: doneKey ? t(`account.done.${doneKey}` as MessageKey) : undefined,
  }, status);
}
