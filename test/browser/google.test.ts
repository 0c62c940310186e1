// Issue 4 in a real browser. From a relying app's sign-in, a person with no account presses
// "Continue with Google", signs in at Google (a second oidc-provider standing in for it, reached
// by real navigation), allows the app in, and is back at the app with an account made from
// Google's answer. Another day, with every cookie gone, the same Google account signs in to the
// same account. Debian's Chromium runs with JavaScript off (the pages must need none), on every
// test store. The app is openid-client; its https redirect URI is never loaded: the browser's
// navigation to it is caught and its URL handed to the app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAME, CALLBACK, screenshot, startRelyingAppInChromium } from '../support/chromium.ts';
import type { Page, RelyingAppInChromium } from '../support/chromium.ts';
import { startGoogleStandIn } from '../support/google-stand-in.ts';
import type { GoogleAccount, GoogleStandIn } from '../support/google-stand-in.ts';
import { beginSignIn, oidc, redeem } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

const PERSON: GoogleAccount = {
  sub: '109876543210987654321',
  email: 'grace.hopper@gmail.com',
  email_verified: true,
  given_name: 'Grace',
  family_name: 'Hopper',
  picture: 'https://lh3.googleusercontent.com/a/grace.png',
};

describe.each(STORES)('Sign in with Google in Chromium without JavaScript (%s)', (kind) => {
  let store: TestStore;
  let google: GoogleStandIn;
  let server: TestServer;
  let app: oidc.Configuration;
  let chromium: RelyingAppInChromium;
  let page: Page;
  let brand: string;
  /** Every URL of the relying app the browser was sent to. */
  let arrivals: string[];

  beforeAll(async () => {
    store = await createTestStore(kind);
    google = await startGoogleStandIn();
    server = await startServer(store, google.env);
    brand = server.config.brandName;
    chromium = await startRelyingAppInChromium(server, { locale: 'en-US' });
    ({ app, page, arrivals } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await google?.close();
    await store?.dispose();
  });

  const button = (name: string) => page.getByRole('button', { name, exact: true });

  /** Waits for the page whose heading is `heading`, then checks what every page owes a person. */
  async function arrive(heading: string) {
    await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
    await page.waitForLoadState('load');
    expect(await page.locator('html').getAttribute('lang'), page.url()).toBe('en');
    expect(await page.title(), page.url()).toMatch(new RegExp(`^\\S.* – ${brand}$`));
    expect(await page.locator('h1').count(), page.url()).toBe(1);
  }

  /**
   * Signs in from the app's request through Google, allows the app in (unless the person already
   * had, which is `remembered`), and returns the app's tokens.
   */
  async function signInWithGoogle({ remembered = false } = {}) {
    const flow = await beginSignIn(app, CALLBACK);
    await page.goto(flow.url);
    await arrive('Sign in');
    google.next = PERSON;
    const requests = google.authorizationRequests.length;
    const before = arrivals.length;
    await button('Continue with Google').click();

    // Google answers at once (the stand-in has no pages), and the browser comes back for consent.
    if (!remembered) {
      await arrive(`${APP_NAME} wants to access your ${brand} account`);
      expect(google.authorizationRequests.length).toBe(requests + 1);
      expect(await page.getByText(`Signed in as ${PERSON.email}`).count()).toBe(1);
      await button('Allow').click();
    }
    await page.waitForURL((url) => url.href.startsWith(`${CALLBACK}?`));
    expect(google.authorizationRequests.length).toBe(requests + 1);
    expect(arrivals.length).toBe(before + 1);
    return redeem(app, flow, arrivals.at(-1)!);
  }

  async function journey() {
    const first = await signInWithGoogle();
    const claims = first.claims()!;
    expect(claims).toMatchObject({ email: PERSON.email, email_verified: true, given_name: 'Grace', family_name: 'Hopper', name: 'Grace Hopper', picture: PERSON.picture });
    expect(claims.sub).not.toBe(PERSON.sub);

    // Another day: the browser kept nothing, neither Sésame's cookies nor Google's. The app was
    // allowed before, and that is remembered: Google, then straight back to the app.
    await chromium.context.clearCookies();
    const again = await signInWithGoogle({ remembered: true });
    expect(again.claims()).toMatchObject({ sub: claims.sub, email: PERSON.email });
    expect(await server.sesame.users.list().then((users) => users.filter((user) => user.email === PERSON.email).length)).toBe(1);
  }

  it('creates an account through "Continue with Google", then signs the same person in to it again', async () => {
    try {
      await journey();
    } catch (error) {
      const file = await screenshot(page, `google-${kind}`).catch((failure: Error) => `none (${failure.message})`);
      const problems = server.logs.filter((line) => /"level":(40|50|60)/.test(line) || line.includes('upstream')).slice(-5);
      if (error instanceof Error) error.message += `\n  at ${page.url()}\n  screenshot: ${file}\n  server warnings and errors:\n${problems.join('\n')}`;
      throw error;
    }
  }, 90_000);
});
