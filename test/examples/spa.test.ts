// clients/examples/spa in Chromium against a running Sésame: a public client signing in with
// oidc-client-ts (authorization code with PKCE, the token request made by the page across
// origins), then showing the person's e-mail and roles; sign-out returns to the app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../clients/examples/spa/server.ts';
import { launchChromium } from '../support/chromium.ts';
import type { Chromium } from '../support/chromium.ts';
import { createPerson, openPort, PASSWORD, registerExample, startSesame } from './harness.ts';
import type { Harness } from './harness.ts';

describe('example: single-page app (oidc-client-ts)', () => {
  let sesame: Harness;
  let app: Awaited<ReturnType<typeof openPort>>;
  let chromium: Chromium;

  beforeAll(async () => {
    sesame = await startSesame();
    app = await openPort();
    const { clientId, secret } = await registerExample(sesame.server, 'spa', app.origin);
    expect(secret).toBeUndefined();
    app.serve(createApp({ issuer: sesame.issuer, clientId }));
    await createPerson(sesame.server, 'dora@example.com', ['admin', 'member']);
    chromium = await launchChromium({ locale: 'en-US' });
    chromium.page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await chromium?.close();
    await app?.stop();
    await sesame?.stop();
  });

  it('signs in on Sésame and shows the e-mail and roles from the ID token; signs out', async () => {
    const { page } = chromium;
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) problems.push(`${response.status()} ${response.url()}`);
    });

    await page.goto(`${app.origin}/`);
    await page.locator('#sign-in').click();
    await page.waitForURL(`${sesame.issuer}/interaction/**`);
    await page.locator('#email').fill('dora@example.com');
    await page.locator('#password').fill(PASSWORD);
    await page.locator('button[type="submit"].primary').click();

    // A public client whose redirect URI is a loopback address counts as a native app (RFC 8252),
    // which Sésame always asks the person about, first-party or not; an https SPA is not asked.
    const allow = page.locator('button[name="decision"][value="allow"]');
    const signedIn = page.locator('#signed-in');
    await allow.or(signedIn.locator('#email')).first().waitFor();
    if (await allow.isVisible()) await allow.click();
    await signedIn.waitFor();
    expect(page.url()).toBe(`${app.origin}/`);
    expect(await page.locator('#email').textContent()).toBe('dora@example.com');
    expect(await page.locator('#roles').textContent()).toBe('admin, member');
    expect(problems).toEqual([]);

    await page.locator('#sign-out').click();
    await page.waitForURL(`${sesame.issuer}/**`);
    await page.locator('button[name="logout"]').click();
    await page.waitForURL(`${app.origin}/`);
    await expect.poll(() => page.locator('#sign-in').isVisible()).toBe(true);
    // Sésame's session ended too: signing in again asks for the password.
    await page.locator('#sign-in').click();
    await page.waitForURL(`${sesame.issuer}/interaction/**`);
    expect(await page.locator('#password').isVisible()).toBe(true);
  });
});
