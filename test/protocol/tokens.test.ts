// Codes, access and refresh tokens as relying apps use them: redemption, refresh, revocation,
// introspection, client credentials, and what happens to them when something goes wrong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oauthError, oidc, redeem, signIn } from '../support/rp.ts';
import type { Flow } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

/** The HTTP status an openid-client call ended with: 200 when it succeeded, else the error response's. */
async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { status?: number }).status ?? -1;
  }
}

describe.each(STORES)('tokens on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;
  let intranet: oidc.Configuration;
  /** Every secret the suite handled, to check at the end that none of them reached the logs. */
  const secrets = new Set<string>([PASSWORD]);
  const keep = (...values: (string | null | undefined)[]) => values.forEach((value) => value && secrets.add(value));

  beforeAll(async () => {
    f = await startFixture(kind);
    keep(f.web.secret, f.firstParty.secret, f.batch.secret);
    web = await discover(f.issuer, f.web.id, f.web.secret);
    intranet = await discover(f.issuer, f.firstParty.id, f.firstParty.secret);
  });
  afterAll(() => f?.stop());

  /** A person signs in to the app in `browser`; the app gets back the callback URL with the code. */
  async function authorize(config: oidc.Configuration, redirectUri: string, params: Record<string, string> = {}, browser = new Browser(f.issuer), email = f.alice.email) {
    const flow = await beginSignIn(config, redirectUri, params);
    const callback = await signIn(browser, flow, email, PASSWORD);
    keep(new URL(callback).searchParams.get('code'));
    return { flow, callback };
  }

  async function tokensFor(config: oidc.Configuration, redirectUri: string, params: Record<string, string> = {}, browser = new Browser(f.issuer), email = f.alice.email) {
    const { flow, callback } = await authorize(config, redirectUri, params, browser, email);
    return { tokens: kept(await redeem(config, flow, callback)) };
  }

  function kept<T extends { access_token: string; refresh_token?: string; id_token?: string }>(tokens: T): T {
    keep(tokens.access_token, tokens.refresh_token, tokens.id_token);
    return tokens;
  }

  const refresh = async (config: oidc.Configuration, token: string, params?: Record<string, string>) =>
    kept(await oidc.refreshTokenGrant(config, token, params));
  const userinfo = (config: oidc.Configuration, token: string) => statusOf(oidc.fetchUserInfo(config, token, oidc.skipSubjectCheck));

  /** RP-initiated logout as a person does it: the app sends them to end_session, they confirm. */
  async function signOut(browser: Browser, idToken: string) {
    const url = oidc.buildEndSessionUrl(web, { id_token_hint: idToken, post_logout_redirect_uri: `${RP}/bye` });
    const confirm = await browser.open(url.href);
    const done = await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
    expect(done.stoppedAt).toBe(`${RP}/bye`);
  }

  describe('refresh tokens', () => {
    it('rotates the refresh token on every use', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      const second = await refresh(web, tokens.refresh_token!);
      expect(second.refresh_token).toBeTruthy();
      expect(second.refresh_token).not.toBe(tokens.refresh_token);
      expect(second.access_token).not.toBe(tokens.access_token);
      expect(await userinfo(web, second.access_token)).toBe(200);
    });

    it('revokes the whole grant when a used refresh token is replayed', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      const second = await refresh(web, tokens.refresh_token!);
      expect(await userinfo(web, second.access_token)).toBe(200);

      expect(await oauthError(refresh(web, tokens.refresh_token!))).toBe('invalid_grant');
      expect(await oauthError(refresh(web, second.refresh_token!))).toBe('invalid_grant');
      expect(await userinfo(web, second.access_token)).toBe(401);
      expect(await userinfo(web, tokens.access_token)).toBe(401);
    });

    it('refuses a refresh token presented by another client, which leaves it working for its own', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      expect(await oauthError(refresh(intranet, tokens.refresh_token!))).toBe('invalid_grant');
      expect((await refresh(web, tokens.refresh_token!)).access_token).toBeTruthy();
    });

    it('never lets the scope grow on refresh, and lets it shrink', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`, { scope: 'openid email' });
      expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid']);

      expect(await oauthError(refresh(web, tokens.refresh_token!, { scope: 'openid email profile' }))).toBe('invalid_scope');
      expect(await oauthError(refresh(web, tokens.refresh_token!, { scope: 'openid offline_access' }))).toBe('invalid_scope');

      const narrower = await refresh(web, tokens.refresh_token!, { scope: 'openid' });
      expect(narrower.scope).toBe('openid');
      const claims = await oidc.fetchUserInfo(web, narrower.access_token, f.alice.id);
      expect(claims).not.toHaveProperty('email');
      expect(claims).not.toHaveProperty('name');
    });

    it('ends a refresh token with the session when the app did not get offline_access', async () => {
      const browser = new Browser(f.issuer);
      const { tokens } = await tokensFor(web, `${RP}/cb`, {}, browser);
      expect(tokens.scope?.split(' ')).not.toContain('offline_access');
      // While the session lasts, the refresh token works.
      const rotated = await refresh(web, tokens.refresh_token!);
      await signOut(browser, tokens.id_token!);
      expect(await oauthError(refresh(web, rotated.refresh_token!))).toBe('invalid_grant');
      expect(await userinfo(web, rotated.access_token)).toBe(401);
    });

    it('keeps an offline_access refresh token (granted with prompt=consent) working after sign-out', async () => {
      const browser = new Browser(f.issuer);
      const { tokens } = await tokensFor(web, `${RP}/cb`, { prompt: 'consent' }, browser);
      expect(tokens.scope?.split(' ')).toContain('offline_access');
      await signOut(browser, tokens.id_token!);
      const after = await refresh(web, tokens.refresh_token!);
      expect(await userinfo(web, after.access_token)).toBe(200);
    });

    it('stops every token of an account once it is disabled', async () => {
      const bob = await f.server.sesame.users.create({ email: 'bob@example.com', password: PASSWORD, emailVerified: true, givenName: 'Bob', familyName: 'Marley' });
      const { tokens } = await tokensFor(web, `${RP}/cb`, {}, new Browser(f.issuer), bob.email);
      expect(await userinfo(web, tokens.access_token)).toBe(200);

      await f.server.sesame.users.setDisabled(bob.id, true);
      expect(await oauthError(refresh(web, tokens.refresh_token!))).toBe('invalid_grant');
      expect(await userinfo(web, tokens.access_token)).toBe(401);
    });
  });

  describe('access tokens at userinfo', () => {
    it('answers 401 with a Bearer challenge to a made-up token and to no token', async () => {
      const me = web.serverMetadata().userinfo_endpoint!;
      const forged = await fetch(me, { headers: { authorization: 'Bearer not-a-real-token' } });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(((await forged.json()) as { error: string }).error).toBe('invalid_token');

      const none = await fetch(me);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    });

    it('marks token and userinfo responses Cache-Control: no-store', async () => {
      const seen: { url: string; status: number; cacheControl: string | null }[] = [];
      const config = await discover(f.issuer, f.web.id, f.web.secret);
      config[oidc.customFetch] = async (url, init) => {
        const response = await fetch(url, init as RequestInit);
        seen.push({ url, status: response.status, cacheControl: response.headers.get('cache-control') });
        return response;
      };
      const { tokens } = await tokensFor(config, `${RP}/cb`);
      await refresh(config, tokens.refresh_token!);
      await oidc.fetchUserInfo(config, tokens.access_token, f.alice.id);

      const token = web.serverMetadata().token_endpoint!;
      const userinfoEndpoint = web.serverMetadata().userinfo_endpoint!;
      expect(seen.filter(({ url }) => url === token)).toHaveLength(2);
      expect(seen.filter(({ url }) => url === userinfoEndpoint)).toHaveLength(1);
      for (const response of seen.filter(({ url }) => url === token || url === userinfoEndpoint)) {
        expect(response.status).toBe(200);
        expect(response.cacheControl).toBe('no-store');
      }
    });
  });

  describe('introspection and revocation', () => {
    it('introspects an access token as active, with its subject and client', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      const info = await oidc.tokenIntrospection(web, tokens.access_token);
      expect(info).toMatchObject({ active: true, sub: f.alice.id, client_id: f.web.id, token_type: 'Bearer' });
      expect(info.scope?.split(' ')).toContain('openid');
      expect(await oidc.tokenIntrospection(web, 'not-a-real-token')).toEqual({ active: false });
    });

    it('revokes an access token: it introspects inactive and userinfo refuses it', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      await oidc.tokenRevocation(web, tokens.access_token);
      expect(await oidc.tokenIntrospection(web, tokens.access_token)).toEqual({ active: false });
      expect(await userinfo(web, tokens.access_token)).toBe(401);
    });

    it('revoking a refresh token also ends the access tokens issued with it', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      expect((await oidc.tokenIntrospection(web, tokens.access_token)).active).toBe(true);
      await oidc.tokenRevocation(web, tokens.refresh_token!);
      expect(await oidc.tokenIntrospection(web, tokens.refresh_token!)).toEqual({ active: false });
      expect(await oidc.tokenIntrospection(web, tokens.access_token)).toEqual({ active: false });
      expect(await oauthError(refresh(web, tokens.refresh_token!))).toBe('invalid_grant');
    });

    it('leaves a token active when another client tries to revoke it', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      // RFC 7009 §2.2: the answer does not tell whether the token was someone else's.
      await oidc.tokenRevocation(intranet, tokens.access_token);
      await oidc.tokenRevocation(intranet, tokens.refresh_token!);
      const dashboard = await discover(f.issuer, f.spa.id);
      await oidc.tokenRevocation(dashboard, tokens.refresh_token!);

      expect((await oidc.tokenIntrospection(web, tokens.access_token)).active).toBe(true);
      expect((await oidc.tokenIntrospection(web, tokens.refresh_token!)).active).toBe(true);
      expect(await userinfo(web, tokens.access_token)).toBe(200);
    });

    it('lets only the owner introspect a token that names no API (see resources.test.ts for APIs)', async () => {
      const { tokens } = await tokensFor(web, `${RP}/cb`);
      const other = await discover(f.issuer, f.batch.id, f.batch.secret);
      expect(await oidc.tokenIntrospection(other, tokens.access_token)).toEqual({ active: false });
      expect(await oidc.tokenIntrospection(other, tokens.refresh_token!)).toEqual({ active: false });
      expect((await oidc.tokenIntrospection(web, tokens.access_token)).active).toBe(true);
      expect((await oidc.tokenIntrospection(web, tokens.refresh_token!)).active).toBe(true);
      const dashboard = await discover(f.issuer, f.spa.id);
      expect(await oidc.tokenIntrospection(dashboard, tokens.access_token)).toEqual({ active: false });
    });
  });

  describe('grant types', () => {
    it('gives the batch client an access token with client credentials, which introspects active', async () => {
      const batch = await discover(f.issuer, f.batch.id, f.batch.secret);
      const { access_token, refresh_token, id_token } = await oidc.clientCredentialsGrant(batch);
      keep(access_token);
      expect(refresh_token).toBeUndefined();
      expect(id_token).toBeUndefined();
      const info = await oidc.tokenIntrospection(batch, access_token);
      expect(info).toMatchObject({ active: true, client_id: f.batch.id });
      expect(info.sub).toBeUndefined();
      // It stands for no person: userinfo has nobody to describe.
      expect(await userinfo(batch, access_token)).toBe(401);
    });

    it('refuses client credentials to a client not registered for them', async () => {
      // RFC 6749 §5.2 names this unauthorized_client; oidc-provider 9 answers invalid_request.
      const error = await oauthError(oidc.clientCredentialsGrant(web));
      expect(['unauthorized_client', 'invalid_request']).toContain(error);
    });

    it('does not offer the password grant', async () => {
      const error = await oauthError(oidc.genericGrantRequest(web, 'password', { username: f.alice.email, password: PASSWORD }));
      expect(error).toBe('unsupported_grant_type');
    });

    it('signs a person in to a public client with PKCE and no secret', async () => {
      const dashboard = await discover(f.issuer, f.spa.id);
      const { tokens } = await tokensFor(dashboard, f.spa.redirectUri);
      expect(tokens.claims()).toMatchObject({ iss: f.issuer, aud: f.spa.id, sub: f.alice.id });
      expect(tokens.refresh_token).toBeTruthy();
      expect(await userinfo(dashboard, tokens.access_token)).toBe(200);
    });

    it('answers a wrong client secret with 401 invalid_client and a Basic challenge', async () => {
      const response = await fetch(web.serverMetadata().token_endpoint!, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(f.web.id)}:${encodeURIComponent('wrong-secret')}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'whatever' }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client');

      const wrong = await discover(f.issuer, f.web.id, 'wrong-secret');
      expect(await statusOf(oidc.clientCredentialsGrant(wrong))).toBe(401);
    });

    it('refuses a confidential client that presents no secret at all', async () => {
      const { flow, callback } = await authorize(web, `${RP}/cb`);
      const secretless = await discover(f.issuer, f.web.id);
      expect(await oauthError(redeem(secretless, flow, callback))).toBe('invalid_client');
      expect(kept(await redeem(web, flow, callback)).access_token).toBeTruthy();
    });
  });

  describe('authorization codes', () => {
    it('redeems a code once; a second redemption fails and revokes what the first one issued', async () => {
      const { flow, callback } = await authorize(web, `${RP}/cb`);
      const first = kept(await redeem(web, flow, callback));
      expect(await userinfo(web, first.access_token)).toBe(200);

      expect(await oauthError(redeem(web, flow, callback))).toBe('invalid_grant');
      expect(await userinfo(web, first.access_token)).toBe(401);
      expect(await oauthError(refresh(web, first.refresh_token!))).toBe('invalid_grant');
    });

    it('lets exactly one of 20 parallel redemptions of a code succeed', async () => {
      const { flow, callback } = await authorize(web, `${RP}/cb`);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => redeem(web, flow, callback)));
      const won = results.filter((result) => result.status === 'fulfilled');
      for (const result of won) kept(result.value);
      expect(won).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect((result.reason as { error?: string }).error).toBe('invalid_grant');
      }
    });

    it('refuses a code presented by another client, with another redirect_uri or without its PKCE verifier', async () => {
      const { flow, callback } = await authorize(web, `${RP}/cb`);
      const other = await authorize(web, `${RP}/cb`);
      const checks = { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce };

      expect(await oauthError(oidc.authorizationCodeGrant(intranet, new URL(callback), checks))).toBe('invalid_grant');

      const elsewhere = new URL(callback);
      elsewhere.pathname = '/intranet/cb';
      expect(await oauthError(oidc.authorizationCodeGrant(web, elsewhere, checks))).toBe('invalid_grant');

      // Code injection: a code from one browser redeemed with another flow's verifier (RFC 9700 §4.5).
      expect(await oauthError(oidc.authorizationCodeGrant(web, new URL(callback), { ...checks, pkceCodeVerifier: other.flow.verifier }))).toBe('invalid_grant');
      expect(await oauthError(oidc.authorizationCodeGrant(web, new URL(callback), { ...checks, pkceCodeVerifier: undefined }))).toBe('invalid_grant');

      // None of those attempts burnt the code: the app it was issued to can still redeem it.
      expect(kept(await redeem(web, flow, callback)).access_token).toBeTruthy();
    });
  });

  it('never writes secrets to the log: passwords, client secrets, codes or tokens', () => {
    // Make sure the check is not empty: the suite did handle secrets, and the server did log the requests.
    expect(secrets.size).toBeGreaterThan(50);
    expect(f.server.logs.some((line) => line.includes('"route":"token"'))).toBe(true);
    const leaks = f.server.logs.filter((line) => [...secrets].some((secret) => line.includes(secret)));
    expect(leaks).toEqual([]);
  });
});

describe.each(STORES)('token lifetimes on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;

  beforeAll(async () => {
    f = await startFixture(kind, { ACCESS_TOKEN_TTL: '2', AUTHORIZATION_CODE_TTL: '2' });
    web = await discover(f.issuer, f.web.id, f.web.secret);
  });
  afterAll(() => f?.stop());

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const signedIn = async (): Promise<{ flow: Flow; callback: string }> => {
    const flow = await beginSignIn(web, `${RP}/cb`);
    return { flow, callback: await signIn(new Browser(f.issuer), flow, f.alice.email, PASSWORD) };
  };

  it('refuses an access token at userinfo once it has expired', async () => {
    const { flow, callback } = await signedIn();
    const tokens = await redeem(web, flow, callback);
    expect(await statusOf(oidc.fetchUserInfo(web, tokens.access_token, f.alice.id))).toBe(200);
    await pause(2100);
    expect(await statusOf(oidc.fetchUserInfo(web, tokens.access_token, f.alice.id))).toBe(401);
    expect(await oidc.tokenIntrospection(web, tokens.access_token)).toEqual({ active: false });
  });

  it('refuses an authorization code once it has expired', async () => {
    const { flow, callback } = await signedIn();
    await pause(2100);
    expect(await oauthError(redeem(web, flow, callback))).toBe('invalid_grant');
  });
});
