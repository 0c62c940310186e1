// Issue 3 in a real browser. From a relying app's sign-in, a person creates an account, confirms
// the address from the e-mail, signs in and consents; later forgets the password, resets it from
// the e-mail and signs in with the new one, while the refresh token from before stops working.
// Debian's Chromium runs with JavaScript off (the pages must need none), in English and in French
// on the embedded store, and in French on PostgreSQL too. The app is openid-client; its https redirect URI is never
// loaded: the browser's navigation to it is caught and its URL handed to the app. E-mails are
// read from the development outbox, as a developer would.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'node-html-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAME, CALLBACK, screenshot, startRelyingAppInChromium } from '../support/chromium.ts';
import type { Page, RelyingAppInChromium } from '../support/chromium.ts';
import type { Locator } from 'playwright-core';
import { beginSignIn, oauthError, oidc, redeem } from '../support/rp.ts';
import type { Flow } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { StoreKind, TestStore } from '../support/stores.ts';


/** What the person types and reads, in each language. */
const LANGUAGES = {
  en: {
    locale: 'en-US',
    person: { given: 'Ada', family: 'Lovelace', email: 'ada@example.com', password: 'lantern river cobalt', newPassword: 'harbour violet engine' },
    signIn: 'Sign in',
    email: 'E-mail address',
    password: 'Password',
    signInButton: 'Sign in',
    createAccount: 'Create an account',
    registerHeading: (brand: string) => `Create your ${brand} account`,
    givenName: 'Given name',
    familyName: 'Family name',
    registerButton: 'Create account',
    problems: 'Please correct these fields:',
    tooShortSummary: 'Password – Use at least 12 characters.',
    tooShort: 'Use at least 12 characters.',
    inbox: 'Check your inbox',
    confirmHeading: 'Confirm your e-mail address',
    confirmButton: 'Confirm my address',
    confirmed: 'Your address is confirmed',
    continue: 'Continue signing in',
    consentHeading: (brand: string) => `${APP_NAME} wants to access your ${brand} account`,
    allow: 'Allow',
    forgot: 'Forgot your password?',
    forgotHeading: 'Reset your password',
    sendLink: 'Send me a link',
    resetHeading: 'Choose a new password',
    newPassword: 'New password',
    changeButton: 'Change password',
    changed: 'Your password was changed',
  },
  fr: {
    locale: 'fr-FR',
    person: { given: 'Zoé', family: 'Durand', email: 'zoe@example.fr', password: 'lanterne rivière cobalt', newPassword: 'port violette moteur' },
    signIn: 'Connexion',
    email: 'Adresse e-mail',
    password: 'Mot de passe',
    signInButton: 'Se connecter',
    createAccount: 'Créer un compte',
    registerHeading: (brand: string) => `Créez votre compte ${brand}`,
    givenName: 'Prénom',
    familyName: 'Nom',
    registerButton: 'Créer le compte',
    problems: 'Corrigez ces champs :',
    tooShortSummary: 'Mot de passe – Utilisez au moins 12 caractères.',
    tooShort: 'Utilisez au moins 12 caractères.',
    inbox: 'Consultez votre messagerie',
    confirmHeading: 'Confirmez votre adresse e-mail',
    confirmButton: 'Confirmer mon adresse',
    confirmed: 'Votre adresse est confirmée',
    continue: 'Continuer la connexion',
    consentHeading: (brand: string) => `${APP_NAME} souhaite accéder à votre compte ${brand}`,
    allow: 'Autoriser',
    forgot: 'Mot de passe oublié ?',
    forgotHeading: 'Réinitialiser votre mot de passe',
    sendLink: 'M’envoyer un lien',
    resetHeading: 'Choisissez un nouveau mot de passe',
    newPassword: 'Nouveau mot de passe',
    changeButton: 'Changer le mot de passe',
    changed: 'Votre mot de passe a été changé',
  },
} as const;

type Language = keyof typeof LANGUAGES;
// Both languages on the embedded store; PostgreSQL (when TEST_DATABASE_URL is set) in French
// only: the pages and e-mails do not depend on the store, and each run costs ~10 s.
const RUNS: { store: StoreKind; language: Language }[] = [
  { store: 'pglite', language: 'en' },
  { store: 'pglite', language: 'fr' },
  ...(STORES.includes('postgres') ? [{ store: 'postgres' as const, language: 'fr' as const }] : []),
];

/** The outbox's e-mails of one kind, oldest first (file names start with the time). */
function outboxMails(dir: string, kind: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(`-${kind}.html`))
    .sort();
}

/** Waits for an e-mail of `kind` beyond the first `seen`, and reads the newest one's button. */
async function awaitMail(dir: string, kind: string, seen: number, linkPrefix: string): Promise<{ lang?: string; link: string }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const newest = outboxMails(dir, kind).slice(seen).at(-1);
    // The .txt is written after the .html: once it is there, the .html is whole.
    if (newest && existsSync(join(dir, newest.replace(/\.html$/, '.txt')))) {
      const mail = parse(readFileSync(join(dir, newest), 'utf8'));
      const link = mail
        .querySelectorAll('a[href]')
        .map((a) => a.getAttribute('href')!)
        .find((href) => href.startsWith(linkPrefix));
      if (!link) throw new Error(`no ${linkPrefix} link in ${newest}`);
      return { lang: mail.querySelector('html')?.getAttribute('lang'), link };
    }
    if (Date.now() > deadline) throw new Error(`no new ${kind} e-mail in ${dir} after 10 s`);
    await sleep(50);
  }
}

describe.each(RUNS)('self-service journey in Chromium without JavaScript ($store, $language)', ({ store: kind, language }) => {
  const words = LANGUAGES[language];
  const { person } = words;
  let store: TestStore;
  let server: TestServer;
  let app: oidc.Configuration;
  let chromium: RelyingAppInChromium;
  let page: Page;
  let brand: string;
  /** Every URL of the relying app the browser was sent to. */
  let arrivals: string[];

  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startServer(store);
    brand = server.config.brandName;
    chromium = await startRelyingAppInChromium(server, { locale: words.locale });
    ({ app, page, arrivals } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await store?.dispose();
  });

  // Helpers over the shared page, in the person's words.
  const field = (label: string) => page.getByLabel(label, { exact: true });
  const button = (name: string) => page.getByRole('button', { name, exact: true });
  const link = (name: string) => page.getByRole('link', { name, exact: true });
  const mailsSoFar = (mailKind: string) => outboxMails(server.config.mail.outboxDir, mailKind).length;

  /** Waits for the page whose heading is `heading`, then checks what every page owes a person. */
  async function arrive(heading: string) {
    await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
    await page.waitForLoadState('load');
    await expectWellFormedPage();
  }

  async function expectWellFormedPage() {
    expect(await page.locator('html').getAttribute('lang'), page.url()).toBe(language);
    expect(await page.title(), page.url()).toMatch(new RegExp(`^\\S.* – ${brand}$`));
    expect(await page.locator('h1').count(), page.url()).toBe(1);
    for (const input of await page.locator('input:not([type="hidden"])').all()) {
      const id = await input.getAttribute('id');
      expect(id, `an input without an id on ${page.url()}`).toBeTruthy();
      const label = page.locator(`label[for="${id}"]`);
      expect(await label.count(), `labels for #${id} on ${page.url()}`).toBe(1);
      expect((await label.innerText()).trim(), `label of #${id}`).not.toBe('');
    }
  }

  /**
   * Without JavaScript only the autofocus attribute can put the caret in a field: it must be on
   * this control and only this one, and Chromium must have honoured it. (Playwright reads focus
   * through the DevTools protocol, which page scripts being off does not stop.)
   */
  async function expectAutofocus(control: Locator) {
    expect(await control.getAttribute('autofocus'), `autofocus on ${page.url()}`).not.toBeNull();
    expect(await page.locator('[autofocus]').count(), `autofocus on ${page.url()}`).toBe(1);
    await expect.poll(() => control.evaluate((element) => element === element.ownerDocument.activeElement), { timeout: 2_000 }).toBe(true);
  }

  async function expectPasswordRefused(control: Locator, message: string) {
    const id = await control.getAttribute('id');
    await page.locator(`#${id}-error`).waitFor();
    expect((await page.locator(`#${id}-error`).innerText()).trim()).toBe(message);
    expect(await control.getAttribute('aria-invalid')).toBe('true');
    expect((await control.getAttribute('aria-describedby'))?.split(' ')).toContain(`${id}-error`);
    expect(await control.inputValue(), 'a rejected password is not sent back').toBe('');
    await expectWellFormedPage();
  }

  /** `proven`: back from a link in the mailbox, the form knows the address and asks for the password. */
  async function signIn(password: string, { proven = false } = {}) {
    await arrive(words.signIn);
    if (proven) {
      expect(await field(words.email).inputValue()).toBe(person.email);
      await expectAutofocus(field(words.password));
    } else {
      await expectAutofocus(field(words.email));
      await field(words.email).fill(person.email);
    }
    await field(words.password).fill(password);
    await button(words.signInButton).click();
  }

  /** Allows the app in, and returns the URL the browser was sent back to the app with. */
  async function consent(): Promise<string> {
    await arrive(words.consentHeading(brand));
    await expectAutofocus(button(words.allow));
    const before = arrivals.length;
    await button(words.allow).click();
    await page.waitForURL((url) => url.href.startsWith(`${CALLBACK}?`));
    expect(arrivals.length).toBe(before + 1);
    return arrivals.at(-1)!;
  }

  async function journey() {
    const outbox = server.config.mail.outboxDir;

    // The app sends the person to sign in; they have no account yet.
    const first: Flow = await beginSignIn(app, CALLBACK);
    await page.goto(first.url);
    await arrive(words.signIn);
    await expectAutofocus(field(words.email));
    await link(words.createAccount).click();

    await arrive(words.registerHeading(brand));
    await expectAutofocus(field(words.givenName));
    await field(words.givenName).fill(person.given);
    await field(words.familyName).fill(person.family);
    await field(words.email).fill(person.email);
    await field(words.password).fill('too short');
    await button(words.registerButton).click();

    await expectPasswordRefused(field(words.password), words.tooShort);
    // The page opens on the field to correct, named above the form with a link to it.
    await expectAutofocus(field(words.password));
    const summary = page.getByRole('alert');
    expect((await summary.innerText()).split('\n').map((line) => line.trim()).filter(Boolean)).toEqual([words.problems, words.tooShortSummary]);
    expect(await summary.getByRole('link').getAttribute('href')).toBe('#password');
    expect(await field(words.givenName).inputValue()).toBe(person.given);
    expect(await field(words.familyName).inputValue()).toBe(person.family);
    expect(await field(words.email).inputValue()).toBe(person.email);
    const verifications = mailsSoFar('verify-email');
    await field(words.password).fill(person.password);
    await button(words.registerButton).click();

    await arrive(words.inbox);
    expect(await page.getByRole('status').innerText()).toContain(person.email);

    // The confirmation link from the e-mail, opened in the same browser.
    const verification = await awaitMail(outbox, 'verify-email', verifications, `${server.issuer}/account/verify?token=`);
    expect(verification.lang).toBe(language);
    await page.goto(verification.link);
    await arrive(words.confirmHeading);
    await expectAutofocus(button(words.confirmButton));
    await button(words.confirmButton).click();
    await arrive(words.confirmed);
    await link(words.continue).click();

    await signIn(person.password, { proven: true });
    const callback = await consent();
    const tokens = await redeem(app, first, callback);
    expect(tokens.claims()).toMatchObject({ email: person.email, email_verified: true, given_name: person.given, family_name: person.family });
    expect(tokens.refresh_token).toBeTruthy();

    // Later the app asks for a fresh sign-in; the person has forgotten the password.
    const second: Flow = await beginSignIn(app, CALLBACK, { prompt: 'login' });
    await page.goto(second.url);
    await arrive(words.signIn);
    await link(words.forgot).click();

    await arrive(words.forgotHeading);
    await expectAutofocus(field(words.email));
    const resets = mailsSoFar('reset-password');
    await field(words.email).fill(person.email);
    await button(words.sendLink).click();
    await arrive(words.inbox);
    expect(await page.getByRole('status').innerText()).toContain(person.email);

    const reset = await awaitMail(outbox, 'reset-password', resets, `${server.issuer}/account/reset?token=`);
    expect(reset.lang).toBe(language);
    await page.goto(reset.link);
    await arrive(words.resetHeading);
    await expectAutofocus(field(words.newPassword));
    await field(words.newPassword).fill('still short');
    await button(words.changeButton).click();
    await expectPasswordRefused(field(words.newPassword), words.tooShort);
    await field(words.newPassword).fill(person.newPassword);
    await button(words.changeButton).click();
    await arrive(words.changed);
    await link(words.continue).click();

    // Every session and grant ended with the reset: sign in again. The app was allowed before,
    // and that is remembered: straight back to it.
    const arrived = arrivals.length;
    await signIn(person.newPassword, { proven: true });
    await page.waitForURL((url) => url.href.startsWith(`${CALLBACK}?`));
    expect(arrivals.length).toBe(arrived + 1);
    const after = await redeem(app, second, arrivals.at(-1)!);
    expect(after.claims()).toMatchObject({ sub: tokens.claims()!.sub, email: person.email, email_verified: true });

    expect(await oauthError(oidc.refreshTokenGrant(app, tokens.refresh_token!))).toBe('invalid_grant');
    await expect(oidc.refreshTokenGrant(app, after.refresh_token!)).resolves.toHaveProperty('access_token');
  }

  it('registers, confirms the address, signs in, resets the password and signs in again', async () => {
    try {
      await journey();
    } catch (error) {
      const file = await screenshot(page, `journey-${kind}-${language}`).catch((failure: Error) => `none (${failure.message})`);
      const problems = server.logs.filter((line) => /"level":(40|50|60)/.test(line)).slice(-5);
      if (error instanceof Error) error.message += `\n  at ${page.url()}\n  screenshot: ${file}\n  server warnings and errors:\n${problems.join('\n')}`;
      throw error;
    }
  }, 90_000);
});
