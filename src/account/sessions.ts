// Where the person is signed in: each Sésame session with the browser and system it started on,
// roughly where, when it started and was last seen, and the apps signed in through it; this one
// marked. Signing one out, all the others, or everywhere (which also revokes every refresh token,
// so apps that keep the person signed in without a session stop too, and says so by e-mail).
// Ending sessions goes through the provider's rows module, which tells every app by back-channel
// logout.
import type Koa from 'koa';
import { userActor } from '../audit/trail.ts';
import type { AccountContext } from './session.ts';
import { notify } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { done, renderAccount } from './page.ts';
import { describeUserAgent } from './devices.ts';
import type { Locate } from './devices.ts';

export const formatDate = (locale: string, date: Date) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);

export function showSessions(deps: AccountDeps, locate: Locate) {
  return async (ctx: AccountContext) => {
    const { locale } = ctx.state;
    const { user, uid: current } = ctx.state.account;
    const provider = deps.provider();
    const appName = async (clientId: string) => (await provider.Client.find(clientId))?.clientName ?? clientId;
    const sessions = await Promise.all(
      (await deps.rows.sessionsOf(user.id)).map(async (session) => ({
        uid: session.uid,
        current: session.uid === current,
        ...describeUserAgent(session.device?.userAgent),
        place: (await locate(session.device?.ip, locale)) ?? session.device?.ip ?? undefined,
        started: formatDate(locale, session.loginTs),
        lastSeen: session.device?.lastSeenAt ? formatDate(locale, session.device.lastSeenAt) : undefined,
        apps: await Promise.all(session.clientIds.map(appName)),
      })),
    );
    sessions.sort((a, b) => Number(b.current) - Number(a.current));
    renderAccount(ctx, deps, 'sessions', { sessions, others: sessions.some((session) => !session.current) });
  };
}

const record = (deps: AccountDeps, ctx: AccountContext, which: string, ended: number) => {
  const { user } = ctx.state.account;
  deps.audit.record({ action: 'sessions.ended', target: user.id, userId: user.id, actor: userActor(user.id), details: { which, ended } });
};

export function endOneSession(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { user, uid: current } = ctx.state.account;
    const uid = ctx.params.uid ?? '';
    // This browser's own session ends with "Sign out", which also tells Sésame's session cookie.
    if (uid !== current) record(deps, ctx, 'one', await deps.rows.endSessions(user.id, { only: uid, reason: 'revoked' }));
    ctx.status = 303;
    ctx.redirect(done('sessions', 'session-ended'));
  };
}

export function endOtherSessions(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { user, uid } = ctx.state.account;
    record(deps, ctx, 'others', await deps.rows.endSessions(user.id, { except: uid, reason: 'revoked' }));
    ctx.status = 303;
    ctx.redirect(done('sessions', 'others-ended'));
  };
}

export function endEverywhere(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const { user } = ctx.state.account;
    record(deps, ctx, 'everywhere', await deps.rows.endSessions(user.id, { reason: 'revoked', revokeRefreshTokens: true }));
    await notify(deps, user, 'signed-out-everywhere');
    deps.cookies.clear(ctx as unknown as Koa.Context);
    const t = ctx.state.t;
    deps.views.render(ctx as unknown as Koa.Context, 'done', { heading: t('account.sessions.everywhere-done-title'), message: t('account.sessions.everywhere-done'), links: [{ href: '/account', text: t('account.sign-in-again') }, { href: '/', text: t('error.home') }] });
  };
}
