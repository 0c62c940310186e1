// Sign in with Google through passport-google-oauth20, bridged into Koa without Express or
// passport itself: the strategy runs with this request's query and hands its outcome (redirect,
// success, fail, error) back as a promise. PKCE, state and nonce go through our state store
// (state.ts). Besides the userinfo answer, the ID token from the token response is verified
// (signature against Google's keys, iss, aud, exp, nonce), must name the same subject, and its
// e-mail claims win over userinfo's.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type Koa from 'koa';
import { Strategy as GoogleStrategy } from 'passport-google-oauth20';
import type { Config } from '../config.ts';
import type { CallbackConnector, Identity } from './connector.ts';
import { UpstreamError } from './connector.ts';
import { newStateHandle, nonceOf, saveState, takeState } from './state.ts';

type Outcome = { redirect: string } | { user: { json: Record<string, unknown>; idToken?: string } } | { fail: unknown };

interface BridgeRequest {
  query: Koa.Context['query'];
  headers: Koa.Context['headers'];
  ctx: Koa.Context;
  uid: string;
  /** The state handle of a round trip being started. */
  handle?: string;
}

export const GOOGLE = 'google';

export function createGoogleConnector(google: NonNullable<Config['google']>, { issuer, timeoutSeconds }: { issuer: string; timeoutSeconds: number }): CallbackConnector {
  const jwks = createRemoteJWKSet(new URL(google.jwksUrl), { timeoutDuration: timeoutSeconds * 1000 });
  const strategy = new GoogleStrategy(
    {
      clientID: google.clientId,
      clientSecret: google.clientSecret,
      callbackURL: `${issuer}/interaction/callback/${GOOGLE}`,
      authorizationURL: google.authorizationUrl,
      tokenURL: google.tokenUrl,
      userProfileURL: google.userinfoUrl,
      scope: ['openid', 'email', 'profile'],
      pkce: true,
      state: true,
      store: {
        store(req: BridgeRequest, verifier: string, _state: unknown, _meta: unknown, done: (error: null, handle: string) => void) {
          done(null, saveState(req.ctx, req.uid, GOOGLE, verifier, req.handle!));
        },
        verify(req: BridgeRequest, handle: string, done: (error: null, verifier: string | false) => void) {
          done(null, takeState(req.ctx, req.uid, GOOGLE, handle) ?? false);
        },
      },
    } as unknown as ConstructorParameters<typeof GoogleStrategy>[0],
    ((_accessToken: string, _refreshToken: string, params: { id_token?: string }, profile: { _json: Record<string, unknown> }, done: (error: null, user: unknown) => void) =>
      done(null, { json: profile._json, idToken: params.id_token })) as never,
  );

  // Send the access token to the userinfo endpoint in the Authorization header, not the query
  // string (RFC 6750 §2.3: tokens in URLs end up in logs).
  (strategy as unknown as { _oauth2: { useAuthorizationHeaderforGET(use: boolean): void } })._oauth2.useAuthorizationHeaderforGET(true);

  // passport-google-oauth20 sends no nonce: add one.
  const authorizationParams = strategy.authorizationParams.bind(strategy);
  strategy.authorizationParams = (options: Record<string, unknown>) => ({
    ...authorizationParams(options),
    ...(typeof options.nonce === 'string' ? { nonce: options.nonce } : {}),
  });

  const run = (ctx: Koa.Context, uid: string, options: Record<string, unknown>, handle?: string) =>
    new Promise<Outcome>((resolve, reject) => {
      const attempt = Object.create(strategy) as GoogleStrategy & Record<string, unknown>;
      attempt.redirect = (url: string) => resolve({ redirect: url });
      attempt.success = (user: { json: Record<string, unknown>; idToken?: string }) => resolve({ user });
      attempt.fail = (challenge: unknown) => resolve({ fail: challenge });
      attempt.error = (error: unknown) => reject(error);
      attempt.pass = () => reject(new Error('unexpected pass'));
      attempt.authenticate({ query: ctx.query, headers: ctx.headers, ctx, uid, handle } satisfies BridgeRequest as never, options);
    });

  const withDeadline = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new UpstreamError('failed', 'Google did not answer in time')), timeoutSeconds * 1000).unref()),
    ]);

  return {
    id: GOOGLE,
    displayName: 'Google',
    allowedDomains: google.allowedDomains,

    async begin(ctx, uid) {
      // With one allowed Workspace domain, Google offers only accounts of that domain (checked again on return).
      const hostedDomain = google.allowedDomains.length === 1 ? google.allowedDomains[0] : undefined;
      const handle = newStateHandle(uid);
      const outcome = await run(ctx, uid, { prompt: 'select_account', nonce: nonceOf(handle), ...(hostedDomain ? { hostedDomain } : {}) }, handle);
      if (!('redirect' in outcome)) throw new UpstreamError('failed', 'could not start the Google sign-in');
      return outcome.redirect;
    },

    async complete(ctx, uid) {
      if (ctx.query.error === 'access_denied') throw new UpstreamError('cancelled', 'the person cancelled at Google');
      if (ctx.query.error) throw new UpstreamError('failed', `Google answered ${String(ctx.query.error)}`);
      if (typeof ctx.query.code !== 'string') throw new UpstreamError('failed', 'no authorization code in the callback');
      let outcome: Outcome;
      try {
        outcome = await withDeadline(run(ctx, uid, {}));
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        throw new UpstreamError('failed', `Google sign-in failed: ${(error as Error).message}`);
      }
      if (!('user' in outcome)) throw new UpstreamError('failed', 'state missing, used or tampered with');
      const { json, idToken } = outcome.user;
      if (!idToken) throw new UpstreamError('failed', 'Google returned no ID token');
      let claims: Record<string, unknown>;
      try {
        ({ payload: claims } = await withDeadline(jwtVerify(idToken, jwks, { issuer: [...google.issuers], audience: google.clientId })));
        if (claims.sub !== json.sub) throw new Error('ID token and userinfo name different subjects');
        if (claims.nonce !== nonceOf(String(ctx.query.state))) throw new Error('nonce mismatch');
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        throw new UpstreamError('failed', `Google ID token refused: ${(error as Error).message}`);
      }
      // What decides about accounts comes from the signed ID token when it carries it.
      const signed = Object.fromEntries(['email', 'email_verified', 'hd'].filter((claim) => claim in claims).map((claim) => [claim, claims[claim]]));
      return toIdentity({ ...json, ...signed });
    },
  };
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** Google's OpenID Connect userinfo, normalised. */
export function toIdentity(json: Record<string, unknown>): Identity {
  const subject = text(json.sub);
  if (!subject) throw new UpstreamError('failed', 'Google returned no subject');
  const picture = text(json.picture);
  return {
    provider: GOOGLE,
    subject,
    email: text(json.email),
    emailVerified: json.email_verified === true || json.email_verified === 'true',
    givenName: text(json.given_name),
    familyName: text(json.family_name),
    picture: picture?.startsWith('https://') ? picture : undefined,
    hostedDomain: text(json.hd)?.toLowerCase(),
  };
}
