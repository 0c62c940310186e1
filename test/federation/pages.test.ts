// Issue 4, the pages: "Continue with Google" appears on the login and registration pages when
// Google is configured, and nowhere (no button, no route) when it is not; the request the
// browser carries to Google is the one Google expects (code flow, PKCE S256, state, the
// OpenID scopes, the account chooser), and its state lives in a cookie only this sign-in sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { click, continueWithGoogle, heading, openSignIn, SAYS, startFederation, tokensFor } from './harness.ts';
import type { Federation, Page } from './harness.ts';

const googleForms = (page: Page) => page.doc.querySelectorAll('form').filter((form) => form.getAttribute('action')?.includes('/federated/'));

describe.each(STORES)('Google sign-in pages when Google is configured (%s)', (kind) => {
  let h: Federation;
  beforeAll(async () => {
    h = await startFederation(kind);
  });
  afterAll(async () => {
    await h?.stop();
  });

  function expectGoogleButton(page: Page, uid: string) {
    const [form, ...others] = googleForms(page);
    expect(others).toHaveLength(0);
    expect(form?.getAttribute('method')).toBe('post');
    expect(form?.getAttribute('action')).toBe(`/interaction/${uid}/federated/google`);
    expect(form?.querySelector('input[name="csrf"]')?.getAttribute('value')).toBeTruthy();
    expect(form?.querySelector('button[type="submit"]')?.text.trim()).toBe(SAYS.continueWithGoogle);
  }

  it('offers "Continue with Google" on the login page', async () => {
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    expect(heading(page)).toBe(SAYS.signIn);
    expectGoogleButton(page, page.url.split('/').at(-1)!);
  });

  it('offers "Continue with Google" on the registration page', async () => {
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    const uid = page.url.split('/').at(-1)!;
    const register = await click(browser, page, 'a[href$="/register"]');
    expect(heading(register)).toBe(`Create your ${h.f.server.config.brandName} account`);
    expectGoogleButton(register, uid);
  });

  it('sends the browser to Google with PKCE S256, a state, the OpenID scopes and the account chooser', async () => {
    // A browser that stops at Google, to read the request it would carry there.
    const browser = new Browser(h.f.issuer, { 'x-forwarded-for': '10.9.0.1' });
    const { page } = await openSignIn(h, browser);
    const uid = page.url.split('/').at(-1)!;
    const sent = await browser.submit(page, {}, { selector: 'form[action$="/federated/google"]' });
    expect(sent.status).toBe(303);
    const request = new URL(sent.stoppedAt!);
    expect(`${request.origin}${request.pathname}`).toBe(h.google.env.GOOGLE_AUTHORIZATION_URL);
    const params = request.searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('client_id')).toBe(h.google.clientId);
    expect(params.get('redirect_uri')).toBe(`${h.f.issuer}/interaction/callback/google`);
    expect(params.get('scope')?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')?.length).toBeGreaterThanOrEqual(32);
    expect(params.get('prompt')).toBe('select_account');
    // A nonce, which the ID token Google returns must carry back.
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('nonce')).not.toBe(params.get('state'));
    expect(params.has('hd'), 'no Workspace domain is configured').toBe(false);
    expect(params.has('client_secret')).toBe(false);

    // The state and verifier stay in this browser, for this sign-in only.
    const cookie = sent.headers.getSetCookie().find((header) => header.startsWith('sesame-upstream='));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(new RegExp(`; path=/interaction/${uid}(;|$)`, 'i'));
    expect(cookie).toMatch(/; httponly/i);
    expect(cookie).toMatch(/; samesite=lax/i);

    // A second attempt gets a state and a challenge of its own.
    const again = new URL((await browser.submit(await browser.open(page.url), {}, { selector: 'form[action$="/federated/google"]' })).stoppedAt!).searchParams;
    expect(again.get('state')).not.toBe(params.get('state'));
    expect(again.get('code_challenge')).not.toBe(params.get('code_challenge'));
  });

  it('and the stand-in for Google received exactly that request, and accepted it', async () => {
    const browser = h.browser();
    const before = h.google.authorizationRequests.length;
    const { flow, page } = await openSignIn(h, browser);
    await tokensFor(h, flow, await continueWithGoogle(h, browser, page, h.googleAccount()));
    expect(h.google.authorizationRequests.length).toBe(before + 1);
    const received = h.google.authorizationRequests.at(-1)!;
    expect(Object.fromEntries([...received].filter(([name]) => ['response_type', 'code_challenge_method', 'prompt', 'scope'].includes(name)))).toEqual({
      response_type: 'code',
      code_challenge_method: 'S256',
      prompt: 'select_account',
      scope: 'openid email profile',
    });
  });

  it('never logs the Google client secret, codes or tokens', () => {
    expect(h.secretsInLogs()).toEqual([]);
  });
});

describe.each(STORES)('Google sign-in pages when Google is not configured (%s)', (kind) => {
  let h: Federation;
  beforeAll(async () => {
    h = await startFederation(kind, {}, { withGoogle: false });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('shows no Google button on the login and registration pages', async () => {
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    expect(heading(page)).toBe(SAYS.signIn);
    expect(page.body).not.toContain('Google');
    expect(googleForms(page)).toHaveLength(0);
    const register = await click(browser, page, 'a[href$="/register"]');
    expect(register.status).toBe(200);
    expect(register.body).not.toContain('Google');
    expect(googleForms(register)).toHaveLength(0);
  });

  it('has no Google route: the "page does not exist" page', async () => {
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    const uid = page.url.split('/').at(-1)!;
    const csrf = page.doc.querySelector('input[name="csrf"]')!.getAttribute('value')!;
    const pages = [
      await browser.open(`${h.f.issuer}/interaction/x/federated/google`),
      await browser.open(`${h.f.issuer}/interaction/${uid}/federated/google`),
      await browser.open(`${h.f.issuer}/interaction/callback/google?code=abc&state=${uid}.xyz`),
      await browser.open(`${h.f.issuer}/interaction/${uid}/federated/google/callback?code=abc&state=${uid}.xyz`),
    ];
    // The form Google's button would post, sent by hand with this sign-in's cookie and CSRF token.
    const posted = await browser.request(`${h.f.issuer}/interaction/${uid}/federated/google`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.f.issuer },
      body: new URLSearchParams({ csrf }),
    });
    const answers = [...pages.map(({ status, body }) => ({ status, body })), { status: posted.status, body: await posted.text() }];
    for (const { status, body } of answers) {
      expect(status, body.slice(0, 300)).toBe(404);
      expect(body).toContain(SAYS.notFound);
    }
  });
});
