// The account page in a real browser with JavaScript (Chromium, launched once for the file):
// from the start page to the account, a change, the sessions page reading this browser, the
// authenticator app enrolled with a code computed from the secret on the page, and sign-out;
// every page checked with axe-core (WCAG 2.1 A and AA).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { createTestStore } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { launchChromium } from '../support/chromium.ts';
import type { Chromium, Page } from '../support/chromium.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'correct horse battery staple';

describe('the account page in Chromium with JavaScript', () => {
  let store: TestStore;
  let server: TestServer;
  let chromium: Chromium;
  let page: Page;
  const blocked: string[] = [];

  beforeAll(async () => {
    store = await createTestStore('pglite');
    server = await startServer(store);
    chromium = await launchChromium({ locale: 'en-US', javaScriptEnabled: true });
    page = chromium.page;
    page.setDefaultTimeout(10_000);
    await chromium.context.addInitScript({ content: AXE_SOURCE });
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) blocked.push(`${page.url()}: ${message.text()}`);
    });
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await store?.dispose();
  });

  const violations = () =>
    page.evaluate(() =>
      (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }).axe
        .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })
        .then((results) => results.violations.map((violation) => `${violation.id} (${violation.nodes.length})`)),
    );
  const h1 = () => page.locator('h1').first().textContent();
  const status = () => page.locator('.notice[role="status"]').first().textContent();

  it('signs in from the start page, changes the name, lists this browser, enrols an authenticator app and signs out', async () => {
    await server.sesame.users.create({ email: 'chromium@example.com', password: PASSWORD, emailVerified: true, givenName: 'Camille', familyName: 'Martin' });
    await page.goto(`${server.issuer}/`);
    await page.getByRole('link', { name: 'Your account' }).click();
    await page.getByLabel('E-mail address').fill('chromium@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${server.issuer}/account`);
    expect(await h1()).toBe('Your account');
    expect(await violations()).toEqual([]);

    await page.getByRole('link', { name: 'Name' }).click();
    expect(await violations()).toEqual([]);
    await page.getByLabel('Given name').fill('Dominique');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await status()).toBe('Your name was saved.');
    expect((await server.sesame.users.findByEmail('chromium@example.com'))?.givenName).toBe('Dominique');

    await page.getByRole('link', { name: 'Where you are signed in' }).click();
    const current = page.locator('.account-item[aria-current="true"]');
    expect(await current.textContent()).toMatch(/Chrom\w* \d+ on Linux/);
    expect(await current.textContent()).toContain('This device');
    expect(await violations()).toEqual([]);

    for (const section of ['E-mail address', 'Password', 'Linked accounts', 'Apps with access']) {
      await page.getByRole('link', { name: section }).click();
      expect(await violations(), section).toEqual([]);
    }

    await page.getByRole('link', { name: 'Two-step sign-in and passkeys' }).click();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    expect(await violations()).toEqual([]);
    const secret = (await page.locator('code.secret').textContent())!.trim();
    await page.getByLabel('The 6-digit code the app shows').fill(new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate());
    await page.getByRole('button', { name: 'Turn on' }).click();
    expect(await status()).toBe('The authenticator app is set up.');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: /sign out/i }).first().click();
    await page.waitForURL(`${server.issuer}/`);
    await page.goto(`${server.issuer}/account`);
    expect(await h1()).toBe('Sign in');
    expect(blocked).toEqual([]);
  });
});
