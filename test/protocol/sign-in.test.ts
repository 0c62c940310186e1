// Signing in through the hosted pages, as a relying app built on openid-client sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as jose from 'jose';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

describe.each(STORES)('sign-in on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
  });
  afterAll(() => f?.stop());

  it('publishes discovery that a certified RP library accepts, with safe defaults', async () => {
    const meta = web.serverMetadata();
    expect(meta.issuer).toBe(f.issuer);
    expect(meta.authorization_endpoint).toBe(`${f.issuer}/auth`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.registration_endpoint).toBeUndefined();
    expect(meta.request_uri_parameter_supported).toBe(false);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.grant_types_supported).not.toContain('password');
    expect(meta.grant_types_supported).not.toContain('implicit');
  });

  it('publishes only public key material, every key with a kid', async () => {
    const { keys } = (await (await fetch(`${f.issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(keys.map((key) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    for (const key of keys) {
      expect(key.kid).toBeTruthy();
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
    }
  });

  it('signs a person in with the authorization code flow and PKCE, after consent', async () => {
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`);
    const login = await browser.open(flow.url);
    expect(login.status).toBe(200);
    expect(login.doc.querySelector('label[for="email"]')?.text).toBe('E-mail address');
    expect(login.body).toContain('to continue to Wiki &lt;b&gt;&amp;&lt;/b&gt;');

    const consent = await browser.submit(login, { email: 'alice@example.com', password: PASSWORD });
    expect(consent.doc.querySelector('h1')?.text).toBe('Wiki <b>&</b> wants to access your Sésame account');
    expect(consent.doc.querySelectorAll('.scopes li').map((li) => li.text)).toEqual([
      'Know who you are',
      'See your name',
      'See your e-mail address',
    ]);
    const done = await browser.submit(consent, {}, { button: { name: 'decision', value: 'allow' } });
    const callback = new URL(done.stoppedAt!);
    expect(callback.origin + callback.pathname).toBe(`${RP}/cb`);
    expect(callback.searchParams.get('iss')).toBe(f.issuer);

    const tokens = await redeem(web, flow, done.stoppedAt!);
    expect(tokens.refresh_token).toBeTruthy();
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: f.issuer, aud: f.web.id, sub: f.alice.id, nonce: flow.nonce, email: 'Alice@Example.com', email_verified: true, name: 'Alice Liddell' });

    const jwks = jose.createRemoteJWKSet(new URL(`${f.issuer}/jwks`));
    const { protectedHeader } = await jose.jwtVerify(tokens.id_token!, jwks, { issuer: f.issuer, audience: f.web.id });
    expect(protectedHeader.alg).toBe('RS256');

    const userinfo = await oidc.fetchUserInfo(web, tokens.access_token, f.alice.id);
    expect(userinfo).toMatchObject({ sub: f.alice.id, email: 'Alice@Example.com', given_name: 'Alice', family_name: 'Liddell' });
    // RFC 9700 §4.12: never 307/308 after the login POST.
    expect(browser.trail.some(({ status }) => status === 307 || status === 308)).toBe(false);
  });

  it('echoes a long state byte for byte', async () => {
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`, { state: 'ßtate-' + 'x'.repeat(2000) });
    const callback = await signIn(browser, flow, f.alice.email, PASSWORD);
    expect(new URL(callback).searchParams.get('state')).toBe(flow.state);
  });

  it('does not ask again for consent already given in the same session', async () => {
    const browser = new Browser(f.issuer);
    await signIn(browser, await beginSignIn(web, `${RP}/cb`), f.alice.email, PASSWORD);
    const page = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    expect(page.stoppedAt).toContain('code=');
  });

  it('skips the consent page for a first-party app', async () => {
    const intranet = await discover(f.issuer, f.firstParty.id, f.firstParty.secret);
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(intranet, `${RP}/intranet/cb`);
    const page = await browser.submit(await browser.open(flow.url), { email: f.alice.email, password: PASSWORD });
    expect(page.stoppedAt).toContain('code=');
    const tokens = await redeem(intranet, flow, page.stoppedAt!);
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
  });

  it('returns access_denied when the person denies consent, and when they cancel', async () => {
    const dora = await f.server.sesame.users.create({ email: 'dora@example.com', password: PASSWORD, emailVerified: true, givenName: 'Dora', familyName: 'Maar' });
    const denied = await signIn(new Browser(f.issuer), await beginSignIn(web, `${RP}/cb`), dora.email, PASSWORD, 'deny');
    expect(new URL(denied).searchParams.get('error')).toBe('access_denied');

    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const cancelled = await browser.submit(login, {}, { selector: 'form[action$="/abort"]' });
    expect(new URL(cancelled.stoppedAt!).searchParams.get('error')).toBe('access_denied');
  });

  it('answers a wrong password and an unknown e-mail with the same page', async () => {
    const attempt = async (email: string, password: string) => {
      const browser = new Browser(f.issuer);
      const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
      const page = await browser.submit(login, { email, password });
      const uid = login.url.split('/').pop()!;
      const csrf = login.doc.querySelector('input[name="csrf"]')!.getAttribute('value')!;
      // The passkey form's challenge (in its data-options) is new on every page.
      const body = page.body.replaceAll(uid, 'UID').replaceAll(csrf, 'CSRF').replaceAll(email, 'EMAIL').replaceAll(encodeURIComponent(email), 'EMAIL').replace(/(challenge&quot;:&quot;)[\w-]+/g, '$1CHALLENGE');
      return { status: page.status, body };
    };
    const wrongPassword = await attempt('alice@example.com', 'not the password at all');
    const unknownEmail = await attempt('nobody@example.com', 'not the password at all');
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail).toEqual(wrongPassword);
    expect(wrongPassword.body).toContain('The e-mail address or password is incorrect.');
  });

  it('shows the pages in French for a French browser, and as the app asks with ui_locales', async () => {
    const french = new Browser(f.issuer, { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' });
    const page = await french.open((await beginSignIn(web, `${RP}/cb`)).url);
    expect(page.doc.querySelector('html')?.getAttribute('lang')).toBe('fr');
    expect(page.doc.querySelector('label[for="password"]')?.text).toBe('Mot de passe');

    const asked = await new Browser(f.issuer).open((await beginSignIn(web, `${RP}/cb`, { ui_locales: 'fr-CA en' })).url);
    expect(asked.doc.querySelector('button.primary')?.text).toBe('Se connecter');
  });

  it('refuses a login form posted without its CSRF token, or with another browser’s', async () => {
    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const withoutToken = await browser.submit(login, { email: f.alice.email, password: PASSWORD, csrf: '' });
    expect(withoutToken.status).toBe(403);

    const other = new Browser(f.issuer);
    const otherLogin = await other.open((await beginSignIn(web, `${RP}/cb`)).url);
    const foreignToken = otherLogin.doc.querySelector('input[name="csrf"]')!.getAttribute('value')!;
    const login2 = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const withForeign = await browser.submit(login2, { email: f.alice.email, password: PASSWORD, csrf: foreignToken });
    expect(withForeign.status).toBe(403);
    expect(withForeign.stoppedAt).toBeUndefined();
  });

  it('refuses a form posted from another origin', async () => {
    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const csrf = login.doc.querySelector('input[name="csrf"]')!.getAttribute('value')!;
    const response = await browser.request(`${login.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ csrf, email: f.alice.email, password: PASSWORD }),
    });
    expect(response.status).toBe(403);
  });

  it('cannot finish a sign-in opened in another browser', async () => {
    const victim = new Browser(f.issuer);
    const login = await victim.open((await beginSignIn(web, `${RP}/cb`)).url);
    const attacker = new Browser(f.issuer);
    const stolen = { ...login };
    const page = await attacker.submit(stolen, { email: f.alice.email, password: PASSWORD });
    expect(page.stoppedAt).toBeUndefined();
    expect([400, 403]).toContain(page.status);
  });

  it('shows a friendly "start again" page for an unknown or expired sign-in', async () => {
    const page = await new Browser(f.issuer).open(`${f.issuer}/interaction/no-such-interaction`);
    expect(page.status).toBe(400);
    expect(page.doc.querySelector('h1')?.text).toBe('This sign-in has expired');
  });

  it('answers an unknown page with a 404 page of ours, and a wrong method with a 405 page that keeps Allow', async () => {
    const browser = new Browser(f.issuer);
    const missing = await browser.open(`${f.issuer}/no-such-page`);
    expect(missing.status).toBe(404);
    expect(missing.doc.querySelector('.brand')?.text).toBe('Sésame');
    expect(missing.body).toContain('This page does not exist.');

    const wrong = await browser.request(`${f.issuer}/healthz`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toMatch(/GET/);
    expect(wrong.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await wrong.text()).toContain('<span class="brand">Sésame</span>');
  });

  it('answers prompt=none without a session with login_required and no page', async () => {
    const page = await new Browser(f.issuer).open((await beginSignIn(web, `${RP}/cb`, { prompt: 'none' })).url);
    expect(new URL(page.stoppedAt!).searchParams.get('error')).toBe('login_required');
  });

  it('asks for the password again when the app wants a recent sign-in (prompt=login, max_age), and says when it happened', async () => {
    const intranet = await discover(f.issuer, f.firstParty.id, f.firstParty.secret);
    const browser = new Browser(f.issuer);
    const first = await beginSignIn(intranet, `${RP}/intranet/cb`);
    await redeem(intranet, first, await signIn(browser, first, f.alice.email, PASSWORD));

    // A session younger than max_age: straight back, with auth_time in the ID token.
    const recent = await beginSignIn(intranet, `${RP}/intranet/cb`, { max_age: '3600' });
    const silent = await browser.open(recent.url);
    const claims = (await oidc.authorizationCodeGrant(intranet, new URL(silent.stoppedAt!), { pkceCodeVerifier: recent.verifier, expectedState: recent.state, expectedNonce: recent.nonce, maxAge: 3600 })).claims()!;
    expect(Math.abs(claims.auth_time! - Date.now() / 1000)).toBeLessThan(120);

    // max_age=0 and prompt=login: the login page again, the address filled in from login_hint.
    for (const params of [{ max_age: '0' }, { prompt: 'login', login_hint: f.alice.email }] as Record<string, string>[]) {
      const page = await browser.open((await beginSignIn(intranet, `${RP}/intranet/cb`, params)).url);
      expect(page.stoppedAt, JSON.stringify(params)).toBeUndefined();
      expect(page.doc.querySelector('input[name="password"]'), JSON.stringify(params)).not.toBeNull();
      if (params.login_hint) expect(page.doc.querySelector('input[name="email"]')!.getAttribute('value')).toBe(f.alice.email);
    }
  });

  it('sends hardening headers on every page and no CORS on the authorization endpoint', async () => {
    const browser = new Browser(f.issuer, { origin: 'https://evil.example' });
    const auth = await browser.request((await beginSignIn(web, `${RP}/cb`)).url);
    expect(auth.headers.get('access-control-allow-origin')).toBeNull();
    const login = await browser.open(new URL(auth.headers.get('location')!, f.issuer).href);
    for (const response of [auth, login]) {
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBeTruthy();
    }
    expect(login.headers.get('cache-control')).toBe('no-store');
    for (const cookie of login.headers.getSetCookie()) expect(cookie.toLowerCase()).toContain('samesite=lax');
  });
});
