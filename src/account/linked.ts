// Accounts at upstream providers (Google) that sign in to this one. Linking runs the connector's
// own round trip (federation/), as a "sign-in" whose uid starts with ACCOUNT_LINK_PREFIX: the
// provider's fixed callback sends it back under /interaction/:uid/account-link/:provider, where
// the connector's state cookie lives, which shows the identity found, sealed into a form that
// posts to /account/linked/:provider/finish. There the account page's session, the round trip's
// uid remembered in this browser and the seal must all agree. An identity already linked to
// another account is refused (accounts/federated-accounts.ts). Unlinking never removes the last
// way to sign in: an account without a password or a passkey keeps its upstream account.
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import { z } from 'zod';
import { text } from '../interactions/guards.ts';
import type { PageContext } from '../interactions/guards.ts';
import { UpstreamError } from '../federation/index.ts';
import { domainAllowed } from '../accounts/federated-accounts.ts';
import { AppError } from '../http/errors.ts';
import type { AccountContext } from './session.ts';
import { notify } from './session.ts';
import type { AccountDeps } from './deps.ts';
import { ACCOUNT_LINK_PREFIX } from './deps.ts';
import { done, renderAccount } from './page.ts';

export const finishLinkForm = z.object({ pending: text });

function connectorOf(deps: AccountDeps, id: string | undefined) {
  const connector = id ? deps.connectors.get(id) : undefined;
  if (!connector) throw new AppError('not_found', `no upstream provider ${id}`);
  return connector;
}

const problemAt = (ctx: Koa.Context, problem: 'failed' | 'taken' | 'domain' | 'last-way') => {
  ctx.status = 303;
  ctx.redirect(`/account/linked?problem=${problem}`);
};

const PROBLEMS = { failed: 'account.linked.failed', taken: 'account.linked.taken', domain: 'account.linked.domain', 'last-way': 'account.linked.last-way' } as const;

export function showLinked(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const linked = await deps.federated.linkedTo(ctx.state.account.user.id);
    const problem = typeof ctx.query.problem === 'string' && Object.hasOwn(PROBLEMS, ctx.query.problem) ? ctx.state.t(PROBLEMS[ctx.query.problem as keyof typeof PROBLEMS]) : undefined;
    const providers = [...deps.connectors.values()].map((connector) => ({
      id: connector.id,
      name: connector.displayName,
      linked: linked.filter((identity) => identity.provider === connector.id).map((identity) => identity.email ?? ''),
    }));
    renderAccount(ctx, deps, 'linked', { providers, problem });
  };
}

export function startLink(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const connector = connectorOf(deps, ctx.params.provider);
    const uid = `${ACCOUNT_LINK_PREFIX}${randomBytes(18).toString('base64url')}`;
    deps.cookies.startLink(ctx as unknown as Koa.Context, { uid, provider: connector.id });
    ctx.status = 303;
    ctx.redirect(await connector.begin(ctx as unknown as Koa.Context, uid));
  };
}

/** Back from the upstream, under /interaction/:uid (the connector's state cookie is there). */
export function returnFromUpstream(deps: AccountDeps) {
  return async (ctx: PageContext) => {
    const connector = connectorOf(deps, ctx.params.provider);
    const uid = ctx.params.uid ?? '';
    if (!uid.startsWith(ACCOUNT_LINK_PREFIX)) throw new AppError('not_found', 'not an account link');
    try {
      const identity = await connector.complete(ctx, uid);
      // Sealed for this round trip; the account it goes to is decided by the session at /finish.
      const pending = deps.pendingLinks.seal(identity, '', uid);
      deps.views.render(ctx, 'account/link-upstream', { provider: connector.displayName, email: identity.email ?? '', pending, action: `/account/linked/${connector.id}/finish`, csrfToken: deps.csrf.token(ctx) });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      deps.log.info({ requestId: ctx.state.requestId, provider: connector.id, problem: error.problem }, 'account page: upstream link did not complete');
      problemAt(ctx, 'failed');
    }
  };
}

export function finishLink(deps: AccountDeps) {
  return async (ctx: AccountContext & { state: { form: z.infer<typeof finishLinkForm> } }) => {
    const connector = connectorOf(deps, ctx.params.provider);
    const { user } = ctx.state.account;
    const started = deps.cookies.takeLink(ctx as unknown as Koa.Context);
    const pending = started && started.provider === connector.id ? deps.pendingLinks.open(ctx.state.form.pending, started.uid) : undefined;
    if (!pending || pending.identity.provider !== connector.id) return problemAt(ctx as unknown as Koa.Context, 'failed');
    if (!domainAllowed(pending.identity, connector.allowedDomains)) return problemAt(ctx as unknown as Koa.Context, 'domain');
    if (!(await deps.federated.linkProven(user.id, pending.identity))) return problemAt(ctx as unknown as Koa.Context, 'taken');
    await notify(deps, user, 'provider-linked', { provider: connector.displayName });
    ctx.status = 303;
    ctx.redirect(done('linked', 'linked'));
  };
}

export function unlink(deps: AccountDeps) {
  return async (ctx: AccountContext) => {
    const connector = connectorOf(deps, ctx.params.provider);
    const { user } = ctx.state.account;
    const others = (await deps.federated.linkedTo(user.id)).filter((identity) => identity.provider !== connector.id).length;
    if (!user.passwordHash && (await deps.passkeys.count(user.id)) === 0 && others === 0) return problemAt(ctx as unknown as Koa.Context, 'last-way');
    const removed = await deps.federated.unlink(user.id, connector.id);
    if (removed.length) await notify(deps, user, 'provider-unlinked', { provider: connector.displayName });
    ctx.status = 303;
    ctx.redirect(done('linked', 'unlinked'));
  };
}
