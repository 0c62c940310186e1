// A second oidc-provider on loopback playing Google: authorization, token, userinfo and JWKS
// endpoints, driven through Sésame's real passport-google-oauth20 strategy. There is no login
// page: the test says who signs in next (or that the person cancels), and the stand-in answers
// the authorization request as Google would. It can also be told to make the token endpoint hang.
import Koa from 'koa';
import compose from 'koa-compose';
import Provider, { interactionPolicy } from 'oidc-provider';
import type { Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { freePort } from './free-port.ts';

export interface GoogleAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
  picture?: string;
  hd?: string;
}

export interface GoogleStandIn {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Settings that point Sésame at this stand-in. */
  env: Record<string, string>;
  /**
   * Who signs in at the next authorization request ("cancel": the person cancels). A browser
   * already signed in here as someone else is sent to sign out first (oidc-provider's own
   * behaviour): use another browser for another account.
   */
  next: GoogleAccount | 'cancel';
  /** The token endpoint never answers while set. */
  hangTokenEndpoint: boolean;
  /** Parameters of every authorization request received. */
  authorizationRequests: URLSearchParams[];
  /** Every code and token it has handed out (to prove none of them reaches Sésame's logs). */
  issued: string[];
  close(): Promise<void>;
}

export async function startGoogleStandIn(): Promise<GoogleStandIn> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'sesame-test.apps.googleusercontent.com';
  const clientSecret = 'stand-in-client-secret';
  const accounts = new Map<string, GoogleAccount>();
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }));
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: ['http://127.0.0.1/placeholder'],
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...jwk, kid: 'stand-in', alg: 'RS256', use: 'sig' }] } as never,
    cookies: { keys: ['google-stand-in'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'hd'], profile: ['name', 'given_name', 'family_name', 'picture'] },
    routes: { userinfo: '/userinfo' },
    features: { devInteractions: { enabled: false } },
    // Set only to keep oidc-provider from printing a notice about its defaults.
    ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600 },
    // Google's prompt=select_account, which Sésame sends, as a prompt the stand-in accepts.
    interactions: { policy },
    pkce: { required: () => true },
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub);
      return account ? { accountId: sub, claims: async () => ({ ...account }) } : undefined;
    },
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  // Sésame's callback URL is only known once it listens: accept any loopback one.
  provider.Client.prototype.redirectUriAllowed = (uri: string) => uri.startsWith('http://127.0.0.1:');

  const standIn: GoogleStandIn = {
    issuer,
    clientId,
    clientSecret,
    env: {
      GOOGLE_CLIENT_ID: clientId,
      GOOGLE_CLIENT_SECRET: clientSecret,
      GOOGLE_AUTHORIZATION_URL: `${issuer}/auth`,
      GOOGLE_TOKEN_URL: `${issuer}/token`,
      GOOGLE_USERINFO_URL: `${issuer}/userinfo`,
      GOOGLE_JWKS_URL: `${issuer}/jwks`,
      GOOGLE_ISSUER: issuer,
    },
    next: 'cancel',
    hangTokenEndpoint: false,
    authorizationRequests: [],
    issued: [],
    close: async () => {},
  };

  // The provider runs inside this app: its cookies are signed with this app's keys.
  const app = new Koa({ keys: ['google-stand-in'] });
  app.use(async (ctx, next) => {
    if (ctx.path === '/auth') standIn.authorizationRequests.push(new URLSearchParams(ctx.querystring));
    if (ctx.path === '/token' && standIn.hangTokenEndpoint) {
      await new Promise(() => {});
    }
    if (!ctx.path.startsWith('/interaction/')) {
      await next();
      const code = new URL(ctx.response.get('location') || '/', issuer).searchParams.get('code');
      if (code) standIn.issued.push(code);
      const body = ctx.path === '/token' ? (ctx.body as Record<string, unknown> | undefined) : undefined;
      for (const key of ['access_token', 'id_token', 'refresh_token']) if (typeof body?.[key] === 'string') standIn.issued.push(body[key] as string);
      return;
    }
    await provider.interactionDetails(ctx.req, ctx.res);
    const who = standIn.next;
    const result = who === 'cancel' ? { error: 'access_denied', error_description: 'The user cancelled' } : { login: { accountId: who.sub }, select_account: {} };
    if (who !== 'cancel') accounts.set(who.sub, who);
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
  });
  app.use(compose(provider.middleware) as Koa.Middleware);

  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(port, '127.0.0.1', () => resolve(listening));
  });
  standIn.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return standIn;
}
