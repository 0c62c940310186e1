// Relying apps built on libraries that never send PKCE (passport-openidconnect): refused unless
// the app is confidential and registered with allow_missing_pkce, and then only with a nonce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { discover, oauthError, oidc, signIn } from '../support/rp.ts';
import type { Flow } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

describe.each(STORES)('sign-in without PKCE on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;
  let legacy: oidc.Configuration;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
    const { client, secret } = await f.server.sesame.clients.add({
      client_name: 'Old wiki',
      redirect_uris: [`${RP}/legacy/cb`],
      allow_missing_pkce: true,
    });
    legacy = await discover(f.issuer, client.clientId, secret);
  });
  afterAll(() => f?.stop());

  /** What passport-openidconnect sends: state, and a nonce when configured to; never PKCE. */
  function withoutPkce(config: oidc.Configuration, redirectUri: string, params: Record<string, string> = {}): Flow {
    const state = oidc.randomState();
    const nonce = params.nonce ?? '';
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid email', state, ...params });
    return { url: url.href, verifier: '', state, nonce, redirectUri };
  }

  async function callbackOf(flow: Flow) {
    const page = await new Browser(f.issuer).open(flow.url);
    if (page.stoppedAt) return new URL(page.stoppedAt);
    return new URL(await signIn(new Browser(f.issuer), flow, f.alice.email, PASSWORD));
  }

  it('refuses a normal confidential client that sends no PKCE, at its redirect URI', async () => {
    const callback = await callbackOf(withoutPkce(web, `${RP}/cb`, { nonce: oidc.randomNonce() }));
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('signs a person in to an allow_missing_pkce client that sends a nonce', async () => {
    const flow = withoutPkce(legacy, `${RP}/legacy/cb`, { nonce: oidc.randomNonce() });
    const callback = await callbackOf(flow);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(legacy, callback, { expectedState: flow.state, expectedNonce: flow.nonce });
    expect(tokens.claims()).toMatchObject({ sub: f.alice.id, nonce: flow.nonce });
  });

  it('refuses an allow_missing_pkce client that sends neither PKCE nor a nonce: invalid_request at its redirect URI', async () => {
    const callback = await callbackOf(withoutPkce(legacy, `${RP}/legacy/cb`));
    expect(callback.origin + callback.pathname).toBe(`${RP}/legacy/cb`);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/nonce/);
  });

  it('still checks the PKCE an allow_missing_pkce client does send', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const flow = withoutPkce(legacy, `${RP}/legacy/cb`, { code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const callback = await callbackOf(flow);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(await oauthError(oidc.authorizationCodeGrant(legacy, callback, { expectedState: flow.state, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }))).toBe('invalid_grant');
  });

  it('refuses a code_verifier for a code asked for without a challenge (PKCE downgrade)', async () => {
    const flow = withoutPkce(legacy, `${RP}/legacy/cb`, { nonce: oidc.randomNonce() });
    const callback = await callbackOf(flow);
    expect(await oauthError(oidc.authorizationCodeGrant(legacy, callback, { expectedState: flow.state, expectedNonce: flow.nonce, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }))).toBe('invalid_grant');
  });

  it('never registers a public client with allow_missing_pkce', async () => {
    await expect(
      f.server.sesame.clients.add({ client_name: 'Old SPA', redirect_uris: ['http://127.0.0.1:5174/cb'], public: true, allow_missing_pkce: true }),
    ).rejects.toThrow(/public client always needs PKCE/);
  });
});
