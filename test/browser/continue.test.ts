// The pages with one button to press, in Chromium with JavaScript on, as most people have it: they
// press their button themselves (the page's script, allowed by the CSP as our own file), so a
// person switching accounts goes straight from the password to the consent page, and an app
// asking for response_mode=form_post receives its POST without anyone pressing anything.
// (Without JavaScript, the button is pressed by hand: test/protocol/continue-pages.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAME, CALLBACK, screenshot, startRelyingAppInChromium } from '../support/chromium.ts';
import type { Page, RelyingAppInChromium } from '../support/chromium.ts';
import { PASSWORD } from '../support/fixture.ts';
import { beginSignIn, oidc, redeem } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

describe('pages with one button, in Chromium with JavaScript on', () => {
  let store: TestStore;
  let server: TestServer;
  let chromium: RelyingAppInChromium;
  let page: Page;
  let brand: string;
  const errors: string[] = [];

  beforeAll(async () => {
    store = await createTestStore('pglite');
    server = await startServer(store);
    brand = server.config.brandName;
    chromium = await startRelyingAppInChromium(server, { locale: 'en-US', javaScript: true });
    page = chromium.page;
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    for (const [email, givenName] of [['ann@example.com', 'Ann'], ['ben@example.com', 'Ben']] as const) {
      await server.sesame.users.create({ email, password: PASSWORD, emailVerified: true, givenName, familyName: 'Example' });
    }
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await store?.dispose();
  });

  const button = (name: string) => page.getByRole('button', { name, exact: true });
  const heading = (name: string) => page.getByRole('heading', { level: 1, name, exact: true });

  async function signInAs(email: string, flow: { url: string }) {
    await page.goto(flow.url);
    await heading('Sign in').waitFor();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await button('Sign in').click();
    await heading(`${APP_NAME} wants to access your ${brand} account`).waitFor();
    expect(await page.getByText(`Signed in as ${email}`).count()).toBe(1);
    const before = chromium.arrivals.length;
    await button('Allow').click();
    await page.waitForURL((url) => url.href.startsWith(`${CALLBACK}?`));
    expect(chromium.arrivals.length).toBe(before + 1);
    return chromium.arrivals.at(-1)!;
  }

  async function withScreenshot(label: string, run: () => Promise<void>) {
    try {
      await run();
    } catch (error) {
      const file = await screenshot(page, label).catch((failure: Error) => `none (${failure.message})`);
      if (error instanceof Error) error.message += `\n  at ${page.url()}\n  screenshot: ${file}\n  console errors: ${errors.join(' | ')}`;
      throw error;
    }
  }

  it('signs the other account out and goes on to consent by itself when another person signs in', () =>
    withScreenshot('switch', async () => {
      const first = await beginSignIn(chromium.app, CALLBACK);
      const ann = await redeem(chromium.app, first, await signInAs('ann@example.com', first));

      const second = await beginSignIn(chromium.app, CALLBACK, { prompt: 'login' });
      const ben = await redeem(chromium.app, second, await signInAs('ben@example.com', second));
      expect(ben.claims()!.sub).not.toBe(ann.claims()!.sub);
      expect(ben.claims()!.email).toBe('ben@example.com');
      expect(errors).toEqual([]);
    }), 60_000);

  it('posts a form_post response to the app by itself', () =>
    withScreenshot('form-post', async () => {
      const flow = await beginSignIn(chromium.app, CALLBACK, { response_mode: 'form_post', prompt: 'none' });
      const before = chromium.posted.length;
      await page.goto(flow.url);
      await page.waitForURL(CALLBACK);
      expect(chromium.posted.length).toBe(before + 1);
      const posted = new Request(CALLBACK, { method: 'POST', body: new URLSearchParams(chromium.posted.at(-1)!) });
      const tokens = await oidc.authorizationCodeGrant(chromium.app, posted, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
      expect(tokens.claims()!.email).toBe('ben@example.com');
      expect(errors).toEqual([]);
    }), 60_000);
});
