// Issue 8, the company's look. Every page a person can meet, reached the way a person reaches it,
// in English and French, light and dark (prefers-color-scheme), on a desktop and a phone screen:
// a screenshot of each in test-results/screenshots/<page>-<lang>-<theme>-<device>.png, and
// axe-core run on each, failing on any WCAG 2.1 A or AA violation. The phone's card keeps a
// margin from the screen's edges and nothing scrolls sideways. Chromium runs with JavaScript on
// (the show-password button is part of the page) under the real Content-Security-Policy: axe
// is put in every document through the DevTools protocol (addInitScript), which the CSP does not
// govern, so no bypassCSP, and a page on which the CSP blocks anything fails. The pages do not depend on the store: one run,
// on the embedded one. Checks read structure (roles, forms, links), never wording that the
// pages' own tests own.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { CALLBACK, startRelyingAppInChromium } from '../support/chromium.ts';
import type { Page, RelyingAppInChromium } from '../support/chromium.ts';
import { startGoogleStandIn } from '../support/google-stand-in.ts';
import type { GoogleAccount, GoogleStandIn } from '../support/google-stand-in.ts';
import { PASSWORD } from '../support/fixture.ts';
import { fr } from '../../src/i18n/fr.ts';
import { beginSignIn, discover } from '../support/rp.ts';
import type { oidc } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const SCREENSHOTS = join(import.meta.dirname, '../../test-results/screenshots');

const LANGUAGES = ['en', 'fr'] as const;
type Language = (typeof LANGUAGES)[number];
const THEMES = ['light', 'dark'] as const;
const DEVICES = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 360, height: 740 } },
] as const;
/** The least room the phone's card keeps from each edge of the screen, in CSS pixels. */
const PHONE_MARGIN = 8;
const NEW_PASSWORD = 'marble lantern orchard 47 violet';

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

describe('every page in both themes and languages, on desktop and phone (pglite)', () => {
  let store: TestStore;
  let google: GoogleStandIn;
  let server: TestServer;
  let chromium: RelyingAppInChromium;
  let app: oidc.Configuration;
  let page: Page;
  /** What the browser's console said about the Content-Security-Policy. */
  const blocked: string[] = [];
  let addresses = 0;
  let accounts = 0;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    store = await createTestStore('pglite');
    google = await startGoogleStandIn();
    server = await startServer(store, {
      ...google.env,
      // Every sign-in comes from an address of its own: the abuse limits per address stay out of the way.
      TRUST_PROXY: 'true',
      BRAND_SUPPORT_URL: 'https://help.example.com/',
      BRAND_PRIVACY_URL: 'https://example.com/privacy',
      BRAND_TERMS_URL: 'https://example.com/terms',
    });
    chromium = await startRelyingAppInChromium(server, { locale: 'en-US', javaScript: true });
    ({ app, page } = chromium);
    // axe-core in every document the browser opens, before the page's own scripts.
    await chromium.context.addInitScript({ content: AXE_SOURCE });
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) blocked.push(`${page.url()}: ${message.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await google?.close();
    await store?.dispose();
  });

  /** A browser with nothing kept but the person's choice of language, from an address of its own. */
  async function fresh(lang: Language) {
    await chromium.context.clearCookies();
    await chromium.context.addCookies([{ name: 'sesame.lang', value: lang, url: server.issuer }]);
    addresses++;
    await page.setExtraHTTPHeaders({ 'x-forwarded-for': `10.8.${addresses >> 8}.${addresses & 255}` });
  }

  async function account(options: { verified?: boolean; names?: boolean; email?: string } = {}) {
    accounts++;
    const email = options.email ?? `person-${accounts}@example.com`;
    await server.sesame.users.create({
      email,
      password: PASSWORD,
      emailVerified: options.verified ?? true,
      ...(options.names === false ? {} : { givenName: 'Camille', familyName: 'Martin' }),
    });
    return email;
  }

  /** Does what `act` does (a click, a navigation) and waits for the page it leads to. */
  async function leadsTo(act: () => Promise<unknown>) {
    const loaded = page.waitForEvent('load');
    await act();
    await loaded;
  }

  const submit = (button: Locator) => leadsTo(() => button.click());
  const open = (url: string) => leadsTo(() => page.goto(url));
  const field = (name: string) => page.locator(`input[name="${name}"]`);
  const submitOf = (action: string) => page.locator(`form[action$="${action}"] [type="submit"]`).first();

  async function signInPage(lang: Language) {
    await fresh(lang);
    await open((await beginSignIn(app, CALLBACK, { prompt: 'login' })).url);
    await field('password').waitFor();
  }

  async function signIn(lang: Language, email: string) {
    await signInPage(lang);
    await field('email').fill(email);
    await field('password').fill(PASSWORD);
    await submit(submitOf('/login'));
  }

  /** The newest e-mail of `kind` beyond the first `seen`, as written to the development outbox. */
  const outbox = () => server.config.mail.outboxDir;
  const mails = (kind: string) => (existsSync(outbox()) ? readdirSync(outbox()).filter((name) => name.endsWith(`-${kind}.txt`)).sort() : []);
  async function linkInMail(kind: string, seen: number, path: string): Promise<string> {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
      const newest = mails(kind).slice(seen).at(-1);
      if (!newest) continue;
      const link = readFileSync(join(outbox(), newest), 'utf8').match(new RegExp(`${server.issuer}${path}\\?token=[\\w-]+`));
      if (link) return link[0];
    }
    throw new Error(`no new ${kind} e-mail after 10 s`);
  }

  const axe = (): Promise<AxeViolation[]> =>
    page.evaluate(
      (tags) =>
        (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe
          .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
          .then((results) => results.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map(({ target }) => ({ target })) }))),
      WCAG_21_AA,
    );

  /** Where the card sits on the screen, and whether anything is wider than the screen. */
  const layout = () =>
    page.evaluate(() => {
      const card = document.querySelector('main')!.getBoundingClientRect();
      return { left: card.left, right: window.innerWidth - card.right, overflow: document.documentElement.scrollWidth - window.innerWidth };
    });

  /** Screenshots and checks the page on show in every theme and on every device. */
  async function capture(name: string, lang: Language): Promise<string[]> {
    const problems: string[] = [];
    expect(await page.locator('html').getAttribute('lang'), `${name} (${lang}) at ${page.url()}`).toBe(lang);
    const other = lang === 'en' ? 'fr' : 'en';
    if ((await page.locator(`nav a[hreflang="${other}"]`).count()) !== 1) problems.push(`${name}-${lang}: no link to this page in ${other}`);
    for (const device of DEVICES) {
      await page.setViewportSize(device.viewport);
      for (const theme of THEMES) {
        const label = `${name}-${lang}-${theme}-${device.name}`;
        await page.emulateMedia({ colorScheme: theme });
        await page.screenshot({ path: join(SCREENSHOTS, `${label}.png`), fullPage: true, timeout: 10_000 });
        for (const violation of await axe()) {
          problems.push(`${label}: ${violation.id} (${violation.impact}) ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
        }
        if (device.name === 'phone') {
          const { left, right, overflow } = await layout();
          if (left < PHONE_MARGIN || right < PHONE_MARGIN) problems.push(`${label}: the card is ${Math.min(left, right)}px from the screen's edge`);
          if (overflow > 0) problems.push(`${label}: the page is ${overflow}px wider than the screen`);
        }
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    return problems;
  }

  const languageOf = () => page.locator('html').getAttribute('lang');
  const switchTo = (lang: Language) => leadsTo(() => page.locator(`nav a[hreflang="${lang}"]`).click());

  it('switches language with a plain link to the same page, kept for the forms that follow and over the app\'s ui_locales', async () => {
    await chromium.context.clearCookies();
    await open((await beginSignIn(app, CALLBACK, { prompt: 'login', ui_locales: 'en' })).url);
    const signIn = new URL(page.url());
    expect(await languageOf()).toBe('en');
    expect(await page.locator('nav [aria-current="true"]').getAttribute('lang')).toBeNull();

    await switchTo('fr');
    expect(await languageOf()).toBe('fr');
    expect(new URL(page.url()).pathname).toBe(signIn.pathname);
    const [cookie] = (await chromium.context.cookies(server.issuer)).filter(({ name }) => name === 'sesame.lang');
    expect(cookie).toMatchObject({ value: 'fr', httpOnly: true, sameSite: 'Lax' });

    // The form posted from here answers in French too, though the app asked for English.
    await field('email').fill('nobody@example.com');
    await field('password').fill('not the password');
    await submit(submitOf('/login'));
    await page.getByRole('alert').waitFor();
    expect(await languageOf()).toBe('fr');

    // That answer has no address of its own: its link leads back to the sign-in, in English.
    await switchTo('en');
    expect(await languageOf()).toBe('en');
    expect(new URL(page.url()).pathname).toBe(signIn.pathname);
    await field('password').waitFor();

    // A page opened from an e-mailed link never repeats its token in a link: the switcher goes
    // through /language, back to the very same page.
    await fresh('en');
    await open(`${server.issuer}/account/forgot`);
    const seen = mails('reset-password').length;
    await field('email').fill(await account());
    await submit(submitOf('/forgot'));
    const resetLink = await linkInMail('reset-password', seen, '/account/reset');
    await open(resetLink);
    const french = page.locator('nav a[hreflang="fr"]');
    expect(await french.getAttribute('href')).not.toContain(new URL(resetLink).searchParams.get('token'));
    await switchTo('fr');
    expect(page.url()).toBe(resetLink);
    expect(await languageOf()).toBe('fr');
    await field('password').waitFor();

    // A link to the same page never leads to another site, whatever the address asked for.
    await open(`${server.issuer}//evil.example/page`);
    expect(await page.locator('nav a[hreflang="en"]').getAttribute('href')).toBe('/evil.example/page?lang=en');
  }, 60_000);

  it('shows the password on request with a toggle button labelled in the page\'s language', async () => {
    await signInPage('fr');
    const password = field('password');
    const toggle = page.getByRole('button', { name: fr['page.show-password'], exact: true });
    expect(await toggle.getAttribute('aria-controls')).toBe(await password.getAttribute('id'));
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await password.fill('lantern river cobalt');
    await toggle.click();
    expect(await password.getAttribute('type')).toBe('text');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await toggle.click();
    expect(await password.getAttribute('type')).toBe('password');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await password.inputValue()).toBe('lantern river cobalt');
  }, 60_000);

  it('draws the Google button as Google asks, its "G" served by us, in both themes', async () => {
    await signInPage('en');
    const button = page.locator('.upstreams button.google');
    expect(await button.count()).toBe(1);
    const mark = button.locator('img');
    expect(await mark.getAttribute('alt')).toBe('');
    expect(new URL((await mark.getAttribute('src'))!, server.issuer).origin).toBe(server.issuer);
    expect(await mark.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(true);
    const look = () =>
      button.evaluate((element) => {
        const style = getComputedStyle(element);
        return { background: style.backgroundColor, color: style.color, border: style.borderTopColor, font: style.fontFamily.split(',')[0], weight: style.fontWeight, height: element.getBoundingClientRect().height };
      });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await look()).toEqual({ background: 'rgb(255, 255, 255)', color: 'rgb(31, 31, 31)', border: 'rgb(116, 119, 117)', font: 'Roboto', weight: '500', height: 40 });
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await look()).toMatchObject({ background: 'rgb(19, 19, 20)', color: 'rgb(227, 227, 227)', border: 'rgb(142, 145, 143)' });
    await page.emulateMedia({ colorScheme: 'light' });
    for (const icon of [await mark.getAttribute('src'), await page.locator('link[rel="icon"]').getAttribute('href')]) {
      const response = await page.request.get(new URL(icon!, server.issuer).href);
      expect(response.headers()['content-type']).toBe('image/svg+xml');
      expect(response.headers()['content-security-policy']).toContain("default-src 'none'");
    }
  }, 60_000);

  it('wears the company\'s logo and colour (a light one, with dark text), still AA in both themes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sesame-logo-'));
    const logo = join(dir, 'logo.svg');
    writeFileSync(logo, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 32"><rect width="120" height="32" rx="6" fill="#ffcc00"/></svg>');
    const brandStore = await createTestStore('pglite');
    const branded = await startServer(brandStore, { BRAND_NAME: 'Acme', BRAND_LOGO_URL: logo, BRAND_PRIMARY_COLOR: '#ffcc00', BRAND_PRIMARY_TEXT_COLOR: '#000000' });
    try {
      const { client, secret } = await branded.sesame.clients.add({ client_name: 'Acme Wiki', redirect_uris: [CALLBACK], post_logout_redirect_uris: [], grant_types: ['authorization_code'], public: false, first_party: false });
      await chromium.context.clearCookies();
      await open((await beginSignIn(await discover(branded.issuer, client.clientId, secret), CALLBACK)).url);
      const image = page.locator('header img');
      expect(await image.getAttribute('alt')).toBe('Acme');
      expect(await image.getAttribute('src')).toMatch(/^\/assets\/logo\.svg\?v=/);
      expect(await image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth > 0)).toBe(true);
      const button = page.locator('form[action$="/login"] [type="submit"]');
      expect(await button.evaluate((element) => [getComputedStyle(element).backgroundColor, getComputedStyle(element).color])).toEqual(['rgb(255, 204, 0)', 'rgb(0, 0, 0)']);
      expect(await capture('branded-login', 'en')).toEqual([]);
      expect(blocked).toEqual([]);
    } finally {
      await branded.stop();
      await brandStore.dispose();
    }
  }, 60_000);

  /** How a person reaches each page, in a language; some go on from the page before. */
  const steps: Record<string, (lang: Language) => Promise<void>> = {
    'home': async (lang) => { await fresh(lang); await open(`${server.issuer}/`); },
    'login': signInPage,
    'login-error': async (lang) => {
      await signInPage(lang);
      await field('email').fill('nobody@example.com');
      await field('password').fill('not the password');
      await submit(submitOf('/login'));
      await page.getByRole('alert').waitFor();
    },
    'register-errors': async (lang) => {
      await signInPage(lang);
      await open(new URL(await page.locator('a[href$="/register"]').getAttribute('href') ?? '', page.url()).href);
      await field('email').fill('not an address');
      await field('password').fill('short');
      await submit(submitOf('/register'));
      await page.locator('[aria-invalid="true"]').first().waitFor();
    },
    'forgot': async (lang) => {
      await signInPage(lang);
      await leadsTo(() => page.locator('a[href*="/forgot"]').click());
      await field('email').waitFor();
    },
    'check-inbox': async (lang) => {
      await signInPage(lang);
      await leadsTo(() => page.locator('a[href*="/forgot"]').click());
      await field('email').fill(await account());
      await submit(submitOf('/forgot'));
    },
    'too-many': async (lang) => {
      await fresh(lang);
      const email = `hurried-${lang}@example.com`;
      for (let tries = 1; ; tries++) {
        await open(`${server.issuer}/account/forgot`);
        await field('email').fill(email);
        const answer = page.waitForResponse((response) => response.request().method() === 'POST');
        await submit(submitOf('/forgot'));
        if ((await answer).status() === 429) break;
        if (tries === 6) throw new Error('the reset requests were never refused');
      }
    },
    'verify-email': async (lang) => { await signIn(lang, await account({ verified: false })); },
    'verify-link': async (lang) => {
      await signIn(lang, await account({ verified: false }));
      const seen = mails('verify-email').length;
      await submit(page.locator('button[name="action"][value="resend"]'));
      await open(await linkInMail('verify-email', seen, '/account/verify'));
    },
    'verify-done': async () => { await submit(page.locator('form[action="/account/verify"] [type="submit"]')); },
    'link-invalid': async (lang) => { await fresh(lang); await open(`${server.issuer}/account/verify?token=no-such-token`); },
    'reset': async (lang) => {
      const email = await account();
      await fresh(lang);
      await open(`${server.issuer}/account/forgot`);
      const seen = mails('reset-password').length;
      await field('email').fill(email);
      await submit(submitOf('/forgot'));
      await open(await linkInMail('reset-password', seen, '/account/reset'));
      await field('password').waitFor();
    },
    'reset-error': async () => {
      await field('password').fill('short');
      await submit(submitOf('/account/reset'));
      await page.locator('[aria-invalid="true"]').waitFor();
    },
    'reset-done': async () => {
      await field('password').fill(NEW_PASSWORD);
      await submit(submitOf('/account/reset'));
    },
    'profile': async (lang) => { await signIn(lang, await account({ names: false })); },
    'consent': async (lang) => { await signIn(lang, await account()); },
    'continue': async () => {
      // Allowed once, the app asks again with response_mode=form_post: the page that posts the
      // answer back. Its script would press the button at once: kept away to look at the page.
      const arrived = chromium.arrivals.length;
      await page.locator('button[name="decision"][value="allow"]').click();
      await page.waitForURL((url) => url.href.startsWith(CALLBACK));
      expect(chromium.arrivals.length).toBe(arrived + 1);
      await page.route('**/assets/continue.js*', (route) => route.abort());
      await open((await beginSignIn(app, CALLBACK, { response_mode: 'form_post' })).url);
      await page.unroute('**/assets/continue.js*');
    },
    'logout': async () => { await open(`${server.issuer}/session/end`); },
    'logout-stay': async () => { await submit(page.locator('form [type="submit"]:not([name="logout"])')); },
    'signed-out': async () => {
      await open(`${server.issuer}/session/end`);
      await submit(page.locator('button[name="logout"]'));
    },
    'link-account': async (lang) => {
      const email = `grace-${lang}@example.com`;
      await account({ email });
      google.next = { sub: `google-${lang}`, email, email_verified: true, given_name: 'Grace', family_name: 'Hopper' } satisfies GoogleAccount;
      await signInPage(lang);
      await submit(page.locator('button.google'));
      await page.locator('form[action$="/link-account"]').first().waitFor();
    },
    'link-confirm': async () => {
      const seen = mails('link-account').length;
      await submit(page.locator('form[action$="/link-account"]:has(input[name="action"][value="email"]) [type="submit"]'));
      await open(await linkInMail('link-account', seen, '/account/link'));
    },
    'expired': async (lang) => { await fresh(lang); await open(`${server.issuer}/interaction/no-such-sign-in`); },
    'not-found': async (lang) => { await fresh(lang); await open(`${server.issuer}/no-such-page`); },
    'error': async (lang) => {
      await fresh(lang);
      await open(`${server.issuer}/auth?client_id=no-such-app&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.example%2Fcb`);
    },
  };

  // Each sweep starts afresh in each language; the pages after its first go on from the one before.
  const sweeps = [
    ['home'], ['login'], ['login-error'], ['register-errors'], ['forgot'], ['check-inbox'], ['too-many'],
    ['verify-email'], ['verify-link', 'verify-done'], ['link-invalid'], ['reset', 'reset-error', 'reset-done'], ['profile'],
    ['consent', 'continue', 'logout', 'logout-stay', 'signed-out'], ['link-account', 'link-confirm'], ['expired'], ['not-found'], ['error'],
  ];

  for (const sweep of sweeps) {
    it(`looks right and passes axe: ${sweep.join(' → ')}`, async () => {
      const problems: string[] = [];
      for (const lang of LANGUAGES) {
        for (const step of sweep) {
          await steps[step]!(lang);
          problems.push(...(await capture(step, lang)));
        }
      }
      expect(problems).toEqual([]);
      expect(blocked).toEqual([]);
    }, 60_000);
  }
});
