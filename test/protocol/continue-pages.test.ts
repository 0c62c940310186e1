// The pages whose only step is a button: a response handed back to the app by form post
// (response_mode=form_post), signing out the account already signed in before signing in as
// another, and a sign-out with nobody signed in. oidc-provider writes them as a bare English page;
// people get ours, in their language, and a browser without JavaScript gets through them with
// the one button.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { heading } from '../support/pages.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

/** The hidden fields of the page's form, as the browser would post them. */
const hiddenFields = (page: Page) =>
  Object.fromEntries(page.doc.querySelectorAll('form input[type="hidden"]').map((input) => [input.getAttribute('name')!, input.getAttribute('value') ?? '']));

/** What every such page owes a person: ours, one visible button, a script only from our origin. */
function expectContinuePage(page: Page, button: string, status = 200) {
  expect(page.status).toBe(status);
  expect(page.body).not.toContain('Submitting Callback');
  expect(page.doc.querySelector('.brand')?.text).toBe('Sésame');
  expect(page.doc.querySelectorAll('form button[type="submit"]').map((b) => b.text.trim())).toEqual([button]);
  expect(page.doc.querySelector('noscript')).toBeNull();
  const scripts = page.doc.querySelectorAll('script');
  expect(scripts.map((script) => script.getAttribute('src'))).toEqual([expect.stringMatching(/^\/assets\/continue\.js\?v=[0-9a-f]{10}$/)]);
  expect(scripts[0]!.text).toBe('');
  expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
}

describe.each(STORES)('pages with one button to press, on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
  });
  afterAll(() => f?.stop());

  it('hands a form_post response back to the app on a page of ours, whose form the app accepts', async () => {
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`, { response_mode: 'form_post', state: `s&"<'>${'x'.repeat(20)}` });
    const consent = await browser.submit(await browser.open(flow.url), { email: f.alice.email, password: PASSWORD });
    const page = await browser.submit(consent, {}, { button: { name: 'decision', value: 'allow' } });

    expectContinuePage(page, 'Continue');
    expect(heading(page)).toBe('Back to Wiki <b>&</b>');
    expect(page.body).toContain('Back to Wiki &lt;b&gt;&amp;&lt;/b&gt;');
    const form = page.doc.querySelector('form')!;
    expect(form.getAttribute('action')).toBe(`${RP}/cb`);
    const fields = hiddenFields(page);
    expect(Object.keys(fields).sort()).toEqual(['code', 'iss', 'state']);
    expect(fields.state).toBe(flow.state);
    expect(fields.iss).toBe(f.issuer);

    // What the browser posts is what the app redeems.
    const posted = new Request(`${RP}/cb`, { method: 'POST', body: new URLSearchParams(fields) });
    const tokens = await oidc.authorizationCodeGrant(web, posted, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    expect(tokens.claims()!.sub).toBe(f.alice.id);
  });

  it('hands a form_post error back to the app the same way', async () => {
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`, { response_mode: 'form_post', prompt: 'none' });
    const page = await browser.open(flow.url);
    // oidc-provider answers 400 to the browser on its way back with an error.
    expectContinuePage(page, 'Continue', 400);
    expect(heading(page)).toBe('Back to Wiki <b>&</b>');
    expect(page.doc.querySelector('form')!.getAttribute('action')).toBe(`${RP}/cb`);
    expect(hiddenFields(page)).toMatchObject({ error: 'login_required', state: flow.state, iss: f.issuer });
  });

  it('signs out the account signed in before, on a page that says so, when another signs in', async () => {
    const bob = await f.server.sesame.users.create({ email: 'bob.switch@example.com', password: PASSWORD, emailVerified: true, givenName: 'Bob', familyName: 'Marley' });
    const browser = new Browser(f.issuer, { 'accept-language': 'fr-FR,fr;q=0.9' });
    const first = await beginSignIn(web, `${RP}/cb`);
    expect((await redeem(web, first, await signIn(browser, first, f.alice.email, PASSWORD))).claims()!.sub).toBe(f.alice.id);

    const second = await beginSignIn(web, `${RP}/cb`, { prompt: 'login' });
    const login = await browser.open(second.url);
    const switching = await browser.submit(login, { email: bob.email, password: PASSWORD });
    expectContinuePage(switching, 'Continuer');
    expect(heading(switching)).toBe('Changement de compte');
    expect(switching.doc.querySelector('html')!.getAttribute('lang')).toBe('fr');
    expect(new URL(switching.doc.querySelector('form')!.getAttribute('action')!).pathname).toBe('/session/end/confirm');

    // Pressing the one button: Alice is signed out, and the sign-in goes on as Bob.
    let page = await browser.submit(switching, {});
    if (!page.stoppedAt) page = await browser.submit(page, {}, { button: { name: 'decision', value: 'allow' } });
    const tokens = await redeem(web, second, page.stoppedAt!);
    expect(tokens.claims()!.sub).toBe(bob.id);

    // This browser is now Bob's only.
    const silent = await beginSignIn(web, `${RP}/cb`, { prompt: 'none' });
    const again = await browser.open(silent.url);
    expect((await redeem(web, silent, again.stoppedAt!)).claims()!.sub).toBe(bob.id);
  });

  it('signs out with nobody signed in on a page of ours, then returns to the app', async () => {
    const browser = new Browser(f.issuer);
    const url = oidc.buildEndSessionUrl(web, { client_id: f.web.id, post_logout_redirect_uri: `${RP}/bye`, state: 'after-logout' });
    const page = await browser.open(url.href);
    expectContinuePage(page, 'Continue');
    expect(heading(page)).toBe('Signing out');
    const done = await browser.submit(page, {});
    expect(done.stoppedAt).toBe(`${RP}/bye?state=after-logout`);
  });

  it('serves the script with a long cache lifetime, and nothing else under its name', async () => {
    const page = await new Browser(f.issuer).open(oidc.buildEndSessionUrl(web, { client_id: f.web.id }).href);
    const src = page.doc.querySelector('script')!.getAttribute('src')!;
    const script = await fetch(new URL(src, f.issuer));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toContain("form[data-auto-submit]");
    expect((await fetch(new URL('/assets/other.js', f.issuer))).status).toBe(404);
  });
});
