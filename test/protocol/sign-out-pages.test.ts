// What a person reads when an app signs them out: the confirmation names the account, and the
// page after it says what happened (signed out, or still signed in after "Stay signed in") and
// leads back to the app that asked, in English and in French, without JavaScript.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { heading } from '../support/pages.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

const backLink = (page: Page) => page.doc.querySelectorAll('main a').map((a) => ({ text: a.text.trim(), href: a.getAttribute('href') }));

describe.each(STORES)('the sign-out pages, on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
  });
  afterAll(() => f?.stop());

  async function signedIn(headers: Record<string, string> = {}) {
    const browser = new Browser(f.issuer, headers);
    const flow = await beginSignIn(web, `${RP}/cb`);
    const tokens = await redeem(web, flow, await signIn(browser, flow, f.alice.email, PASSWORD));
    return { browser, idToken: tokens.id_token! };
  }

  /** The app's silent check: is this browser still signed in at Sésame? */
  async function stillSignedIn(browser: Browser) {
    const flow = await beginSignIn(web, `${RP}/cb`, { prompt: 'none' });
    const page = await browser.open(flow.url);
    return !new URL(page.stoppedAt!).searchParams.has('error');
  }

  it('names the account being signed out on the confirmation', async () => {
    const { browser, idToken } = await signedIn();
    const confirm = await browser.open(oidc.buildEndSessionUrl(web, { id_token_hint: idToken }).href);
    expect(confirm.doc.querySelector('main')!.text).toContain('Signed in as Alice Liddell (Alice@Example.com)');
  });

  it('after "Stay signed in", says the person is still signed in and leads back to the app', async () => {
    const { browser, idToken } = await signedIn();
    const confirm = await browser.open(oidc.buildEndSessionUrl(web, { id_token_hint: idToken }).href);
    const stay = await browser.submit(confirm, {});

    expect(stay.status).toBe(200);
    expect(heading(stay)).toBe('You are still signed in');
    expect(stay.doc.querySelector('title')!.text).toMatch(/^You are still signed in/);
    expect(stay.body).not.toContain('now signed out');
    expect(stay.doc.querySelector('[role="status"]')!.text).toContain('as Alice Liddell (Alice@Example.com)');
    // The app's registered page for people it signed out, its name as text.
    expect(backLink(stay)).toEqual([{ text: 'Back to Wiki <b>&</b>', href: `${RP}/bye` }]);
    expect(await stillSignedIn(browser)).toBe(true);
  });

  it('says so in French too', async () => {
    const { browser, idToken } = await signedIn({ 'accept-language': 'fr' });
    const confirm = await browser.open(oidc.buildEndSessionUrl(web, { id_token_hint: idToken }).href);
    expect(confirm.doc.querySelector('main')!.text).toContain('Compte connecté : Alice Liddell (Alice@Example.com)');
    const stay = await browser.submit(confirm, {});
    expect(heading(stay)).toBe('Votre session reste ouverte');
    expect(backLink(stay)).toEqual([{ text: 'Retour à Wiki <b>&</b>', href: `${RP}/bye` }]);
  });

  it('after "Sign out", says the person is signed out and leads back to the app that asked', async () => {
    const { browser, idToken } = await signedIn();
    const confirm = await browser.open(oidc.buildEndSessionUrl(web, { id_token_hint: idToken }).href);
    const done = await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });

    expect(heading(done)).toBe('Signed out');
    expect(done.doc.querySelector('[role="status"]')!.text).toBe('You are now signed out of Sésame.');
    expect(backLink(done)).toEqual([{ text: 'Back to Wiki <b>&</b>', href: `${RP}/bye` }]);
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('after "Stay signed in" with no app named, says the person is still signed in', async () => {
    const { browser } = await signedIn({ 'accept-language': 'fr' });
    const confirm = await browser.open(`${f.issuer}/session/end`);
    const stay = await browser.submit(confirm, {});
    expect(heading(stay)).toBe('Votre session reste ouverte');
    expect(backLink(stay)).toEqual([]);
    expect(await stillSignedIn(browser)).toBe(true);

    const again = await browser.open(`${f.issuer}/session/end`);
    const done = await browser.submit(again, {}, { button: { name: 'logout', value: 'yes' } });
    expect(heading(done)).toBe('Déconnecté');
    expect(await stillSignedIn(browser)).toBe(false);
  });
});
