// The pages oidc-provider renders itself (its errors, the logout confirmation, the signed-out
// page, its self-submitting forms), drawn with our templates in the person's language.
import type Koa from 'koa';
import { errors } from 'oidc-provider';
import type { KoaContextWithOIDC, ErrorOut } from 'oidc-provider';
import type { ProviderPages } from '../oidc/provider.ts';
import type { Views } from '../http/views.ts';
import type { MessageKey } from '../i18n/index.ts';
import type { Logger } from '../log.ts';
import type { UserService } from '../accounts/users.ts';
import { appLink, appOfInteraction } from './app-link.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { UNAVAILABLE_RETRY_AFTER } from '../http/unavailable.ts';

const CLIENT_ERRORS = new Set(['invalid_client', 'invalid_redirect_uri', 'unauthorized_client', 'invalid_client_metadata']);
const REQUEST_ERRORS = new Set([
  'invalid_request',
  'invalid_scope',
  'unsupported_response_type',
  'unsupported_response_mode',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
  'invalid_target',
]);

function messageFor(error: string): MessageKey {
  if (CLIENT_ERRORS.has(error)) return 'error.client';
  if (REQUEST_ERRORS.has(error)) return 'error.request';
  return 'error.generic';
}

export function createProviderPages(views: Views, log: Logger, users: Pick<UserService, 'findById'>): ProviderPages {
  /** Who is signed in, as they would recognise themselves: "Ada Lovelace (ada@example.com)". */
  const accountName = async (accountId: string | undefined) => {
    const user = accountId ? await users.findById(accountId) : null;
    if (!user) return undefined;
    const name = [user.givenName, user.familyName].filter(Boolean).join(' ');
    return name ? `${name} (${user.email})` : user.email;
  };

  return {
    async renderError(ctx: KoaContextWithOIDC, out: ErrorOut, error: Error) {
      const status = ctx.status >= 400 ? ctx.status : 400;
      if (error instanceof errors.SessionNotFound) {
        const uid = (ctx as { params?: Record<string, unknown> }).params?.uid;
        return views.render(ctx, 'expired', { app: ctx.oidc ? await appOfInteraction(ctx.oidc.provider, uid) : undefined }, status);
      }
      const requestId = ctx.state.requestId as string;
      if (isDatabaseUnavailable(error)) {
        ctx.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER));
        return views.render(ctx, 'unavailable', { requestId }, 503);
      }
      log.info({ requestId, error: out.error, description: out.error_description, path: ctx.path }, 'protocol error shown to a person');
      views.render(
        ctx,
        'error',
        {
          message: ctx.state.t(messageFor(out.error)),
          // oidc-provider's own wording, meant for the relying app's developers (never secrets).
          details: out.error === 'server_error' ? undefined : { error: out.error, description: out.error_description },
          requestId,
        },
        status,
      );
    },

    async logoutSource(ctx: KoaContextWithOIDC) {
      // The confirmation form posts to the provider's confirm endpoint with its xsrf secret;
      // we draw it ourselves so both buttons live inside one plain form.
      const clientName = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
      views.render(ctx, 'logout', {
        action: ctx.oidc.urlFor('end_session_confirm'),
        xsrf: ctx.oidc.session?.state?.secret,
        clientName,
        account: await accountName(ctx.oidc.session?.accountId),
      });
    },

    // Reached after "Sign out" and after "Stay signed in" alike: the session cookie tells which.
    async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      const session = await ctx.oidc.provider.Session.get(ctx);
      views.render(ctx, 'signed-out', {
        stayed: Boolean(session.accountId),
        account: await accountName(session.accountId),
        app: appLink(ctx.oidc.client),
      });
    },
  };
}

/**
 * After "Sign out", oidc-provider sends a person whose app gave no post_logout_redirect_uri to
 * the signed-out page without naming the app (it does name it after "Stay signed in"). This puts
 * the app back on that redirect, so that the page can offer the way back to it.
 */
export function signedOutPageNamesTheApp(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    if (oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !oidc.client) return;
    const signedOutPage = oidc.urlFor('end_session_success');
    if (ctx.response.get('Location') !== signedOutPage) return;
    ctx.set('Location', `${signedOutPage}?${new URLSearchParams({ client_id: oidc.client.clientId })}`);
  };
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (text: string) => text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);

/**
 * oidc-provider writes its self-submitting form (a `form_post` response to a relying app, the
 * sign-out that precedes signing in as another account, a sign-out with nobody signed in) as a
 * bare English page with no name on it. This redraws that page as ours, with the same form:
 * JavaScript presses its button (/assets/continue.js), and without JavaScript the person does.
 */
export function brandedFormPosts(views: Views): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    if (typeof ctx.body !== 'string' || !ctx.response.is('html') || !ctx.body.includes('<title>Submitting Callback</title>')) return;
    const escapedAction = /<form method="post" action="([^"]*)">/.exec(ctx.body)?.[1];
    if (escapedAction === undefined) return;
    const action = unescapeHtml(escapedAction);
    const fields = [...ctx.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g)].map(([, name, value]) => ({
      name: unescapeHtml(name!),
      value: unescapeHtml(value!),
    }));
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    const signsOut = action === oidc.urlFor('end_session_confirm');
    const purpose = !signsOut ? 'return' : oidc.route === 'resume' ? 'switch' : 'logout';
    const clientName = oidc.client?.clientName ?? oidc.client?.clientId;
    views.render(ctx, 'continue', { action, fields, purpose, clientName }, ctx.status);
  };
}
