// The second-factor pages in a real browser with JavaScript on, under the real
// Content-Security-Policy: the QR code drawn inline as SVG, the enrolment, the recovery codes
// and the code page, in English and French, with axe-core finding no WCAG 2.1 A/AA violation and
// nothing blocked by the CSP. The pages do not depend on the store: one run, on the embedded one.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { CALLBACK, startRelyingAppInChromium } from '../support/chromium.ts';
import type { Page, RelyingAppInChromium } from '../support/chromium.ts';
import { PASSWORD } from '../support/fixture.ts';
import { beginSignIn } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';
import { ACR_MFA } from './helpers.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const codeAt = (secret: string, steps = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + steps * 30_000 });

describe('second-factor pages in Chromium (pglite)', () => {
  let store: TestStore;
  let server: TestServer;
  let chromium: RelyingAppInChromium;
  let page: Page;
  const blocked: string[] = [];
  let people = 0;

  beforeAll(async () => {
    store = await createTestStore('pglite');
    server = await startServer(store, { TRUST_PROXY: 'true' });
    chromium = await startRelyingAppInChromium(server, { locale: 'en-US', javaScript: true });
    ({ page } = chromium);
    await chromium.context.addInitScript({ content: AXE_SOURCE });
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) blocked.push(`${page.url()}: ${message.text()}`);
    });
  }, 120_000);
  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await store?.dispose();
  });

  const axe = (): Promise<string[]> =>
    page.evaluate(
      (tags) =>
        (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe
          .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
          .then((results) => results.violations.map(({ id, help, nodes }) => `${id}: ${help} at ${nodes.map((node) => node.target.join(' ')).join(', ')}`)),
      WCAG_21_AA,
    );
  const leadsTo = async (act: () => Promise<unknown>) => {
    const loaded = page.waitForEvent('load');
    await act();
    await loaded;
  };
  const field = (name: string) => page.locator(`input[name="${name}"]`);
  const submitOf = (action: string) => page.locator(`form[action$="${action}"] [type="submit"]`).first();

  it('enrols, shows the recovery codes, then asks for a code, accessibly in both languages', async () => {
    for (const lang of ['en', 'fr'] as const) {
      people++;
      const email = `person-${people}@example.com`;
      await server.sesame.users.create({ email, password: PASSWORD, emailVerified: true, givenName: 'Camille', familyName: 'Martin' });
      await chromium.context.clearCookies();
      await chromium.context.addCookies([{ name: 'sesame.lang', value: lang, url: server.issuer }]);
      await page.setExtraHTTPHeaders({ 'x-forwarded-for': `10.9.0.${people}` });
      const flow = await beginSignIn(chromium.app, CALLBACK, { acr_values: ACR_MFA, prompt: 'login' });
      await leadsTo(() => page.goto(flow.url));
      await field('email').fill(email);
      await field('password').fill(PASSWORD);
      await leadsTo(() => submitOf('/login').click());

      // The enrolment page: the QR code is inline SVG, drawn (it has a size), and labelled.
      const qr = page.getByRole('img', { name: lang === 'en' ? 'QR code to add your account to an authenticator app' : 'Code QR pour ajouter votre compte à une application d’authentification' });
      expect((await qr.locator('svg').boundingBox())!.width).toBeGreaterThan(100);
      expect(await page.locator('html').getAttribute('lang')).toBe(lang);
      expect(await axe(), `enrolment (${lang})`).toEqual([]);
      const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');

      await field('code').fill('000000' === codeAt(secret) ? '111111' : '000000');
      await leadsTo(() => submitOf('/second-factor/enrol').click());
      expect(await field('code').getAttribute('aria-invalid')).toBe('true');
      expect(await axe(), `enrolment with an error (${lang})`).toEqual([]);
      await field('code').fill(codeAt(secret));
      await leadsTo(() => submitOf('/second-factor/enrol').click());
      expect(await page.locator('.recovery-codes code').count()).toBe(10);
      expect(await axe(), `recovery codes (${lang})`).toEqual([]);
      await leadsTo(() => submitOf('/second-factor/continue').click());
      await page.locator('button[name="decision"][value="allow"]').click();
      await page.waitForURL(/^https:\/\/rp\.example\.test\/.*[?&]code=/);

      // Next time, in a browser that forgot the session: the code page, and the recovery code form.
      await chromium.context.clearCookies();
      await chromium.context.addCookies([{ name: 'sesame.lang', value: lang, url: server.issuer }]);
      await leadsTo(async () => page.goto((await beginSignIn(chromium.app, CALLBACK)).url));
      await field('email').fill(email);
      await field('password').fill(PASSWORD);
      await leadsTo(() => submitOf('/login').click());
      expect(await field('code').getAttribute('autocomplete')).toBe('one-time-code');
      expect(await axe(), `code page (${lang})`).toEqual([]);
      await leadsTo(() => page.locator('a[href$="?factor=recovery"]').click());
      expect(await axe(), `recovery code page (${lang})`).toEqual([]);
      await field('code').fill('not-a-code');
      await leadsTo(() => submitOf('/second-factor/recovery').click());
      expect(await axe(), `recovery code page with an error (${lang})`).toEqual([]);
    }
    expect(blocked).toEqual([]);
  });
});
