// No page leaves a person stranded (issue 8, part 2): every dead end says what happened and
// offers the next step, counts read as people say them ("1 minute", "24 hours", in English and
// French), and the sign-in form knows the address a person has just proved from their mailbox.
// Driven as a browser without JavaScript does it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from '../support/browser.ts';
import { RP } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import { click, expectNoSecretsInLogs, heading, openSignIn, register, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const links = (page: Page) => page.doc.querySelectorAll('main a').map((a) => ({ text: a.text.trim(), href: a.getAttribute('href') }));
const emailField = (page: Page) => page.doc.querySelector('input[name="email"]');
const autofocused = (page: Page) => page.doc.querySelectorAll('[autofocus]').map((element) => element.getAttribute('name'));

describe.each(STORES)('pages that never strand a person, on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    // Each browser its own address: one test's limits never spill into another's.
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  /** Follows an e-mailed link and presses its page's button, as the person does. */
  async function follow(browser: Browser, link: string, fields: Record<string, string> = {}) {
    const page = await browser.open(link);
    return browser.submit(page, fields);
  }

  it('says how long the confirmation link lasts, suggests the spam folder, and sends it again', async () => {
    const browser = h.browser();
    const email = 'inbox-resend@example.com';
    const inbox = await register(h, browser, { email, password: 'amber kettle 31 meadow' });
    expect(heading(inbox)).toBe('Check your inbox');
    const text = inbox.doc.querySelector('main')!.text;
    expect(text).toContain('The link works for 24 hours.');
    expect(text).toContain('spam');

    const again = await browser.submit(inbox, {}, { selector: 'form[action$="/register/resend"]' });
    expect(again.status).toBe(200);
    expect(again.doc.querySelector('.notice')!.text).toBe(`We sent the message to ${email} again.`);
    expect((await h.inbox(email, 'verify-email')).length).toBe(2);
    // The newer link is the one that works.
    const confirmed = await follow(browser, (await h.latest(email, 'verify-email')).link!);
    expect(heading(confirmed)).toBe('Your address is confirmed');
  });

  it('says so in French, with the reset link’s lifetime', async () => {
    const account = await h.account({ label: 'inbox-fr' });
    const browser = h.browser({ 'accept-language': 'fr' });
    const { page } = await openSignIn(h, browser);
    const forgot = await click(browser, page, 'a[href*="/forgot"]');
    const inbox = await browser.submit(forgot, { email: account.email });
    const text = inbox.doc.querySelector('main')!.text;
    expect(text).toContain('Le lien est valable 15 minutes.');
    expect(text).toContain('courriers indésirables');
    const again = await browser.submit(inbox, {}, { selector: 'form:not(.aside)' });
    expect(heading(again)).toBe('Consultez votre messagerie');
    expect((await h.inbox(account.email, 'reset-password')).length).toBe(2);
  });

  it('fills in the address on the sign-in form after the address is confirmed', async () => {
    const browser = h.browser();
    const email = 'prefill-confirmed@example.com';
    await register(h, browser, { email, password: 'amber kettle 32 meadow' });
    const done = await follow(browser, (await h.latest(email, 'verify-email')).link!);
    const login = await click(browser, done, 'a.button');
    expect(heading(login)).toBe('Sign in');
    expect(emailField(login)?.getAttribute('value')).toBe(email);
    expect(autofocused(login)).toEqual(['password']);
    // Nowhere in a URL.
    expect(browser.trail.some(({ url }) => url.includes(encodeURIComponent(email)) || url.includes(email))).toBe(false);
  });

  it('fills in the address on the sign-in form after a password reset', async () => {
    const account = await h.account({ label: 'prefill-reset' });
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    const forgot = await click(browser, page, 'a[href*="/forgot"]');
    await browser.submit(forgot, { email: account.email });
    const password = 'velvet compass 33 orchard';
    h.keep(password);
    const done = await follow(browser, (await h.latest(account.email, 'reset-password')).link!, { password });
    expect(heading(done)).toBe('Your password was changed');
    const login = await click(browser, done, 'a.button');
    expect(emailField(login)?.getAttribute('value')).toBe(account.email);
    expect(browser.trail.some(({ url }) => url.includes(account.email))).toBe(false);
  });

  it('says an address is already confirmed when its link is used again', async () => {
    const browser = h.browser();
    const email = 'confirmed-twice@example.com';
    await register(h, browser, { email, password: 'amber kettle 34 meadow' });
    const { link } = await h.latest(email, 'verify-email');
    const form = await browser.open(link!);
    expect(heading(await browser.submit(form, {}))).toBe('Your address is confirmed');
    for (const again of [await browser.submit(form, {}), await h.browser().open(link!)]) {
      expect(heading(again)).toBe('Your address is already confirmed');
      expect(again.body).not.toMatch(/expired|no longer works/);
    }
    const fr = await h.browser({ 'accept-language': 'fr' }).open(link!);
    expect(heading(fr)).toBe('Votre adresse est déjà confirmée');
  });

  it('offers a new link, and the way back to the sign-in, for a reset link already used', async () => {
    const account = await h.account({ label: 'used-reset' });
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    await browser.submit(await click(browser, page, 'a[href*="/forgot"]'), { email: account.email });
    const { link } = await h.latest(account.email, 'reset-password');
    const password = 'velvet compass 35 orchard';
    h.keep(password);
    await follow(browser, link!, { password });

    const used = await browser.open(link!);
    expect(used.status).toBe(400);
    expect(heading(used)).toBe('This link no longer works');
    expect(links(used)[0]).toEqual({ text: 'Ask for a new link', href: '/account/forgot' });
    const forgot = await click(browser, used, 'main a');
    expect(heading(forgot)).toBe('Reset your password');
  });

  it('tells how to get a new confirmation link, and leads back to its sign-in, for one that no longer works', async () => {
    const browser = h.browser();
    const email = 'replaced-link@example.com';
    const inbox = await register(h, browser, { email, password: 'amber kettle 36 meadow' });
    const { link: first } = await h.latest(email, 'verify-email');
    await browser.submit(inbox, {}, { selector: 'form[action$="/register/resend"]' });
    await h.inbox(email, 'verify-email');

    // A newer link was sent: this one is gone, and says what to do.
    const replaced = await browser.open(first!);
    expect(heading(replaced)).toBe('This link no longer works');
    expect(replaced.doc.querySelector('[role="status"]')!.text).toContain('sign in with your address and password');

    const unknown = await h.browser({ 'accept-language': 'fr' }).open(`${h.f.issuer}/account/verify?token=${'A'.repeat(43)}`);
    expect(unknown.doc.querySelector('[role="status"]')!.text).toContain('connectez-vous avec votre adresse et votre mot de passe');
  });

  it('names each field in error at the top, links to it, and focuses the first', async () => {
    const browser = h.browser();
    const page = await register(h, browser, { given_name: 'Zoé', family_name: '', email: 'not-an-address', password: 'amber kettle 37 meadow' });
    expect(page.status).toBe(400);
    const summary = page.doc.querySelector('[role="alert"]')!;
    expect(summary.querySelectorAll('a').map((a) => [a.getAttribute('href'), a.text.trim()])).toEqual([
      ['#family_name', 'Family name – This field is required.'],
      ['#email', 'E-mail address – Enter an e-mail address like name@example.com.'],
    ]);
    for (const id of ['family_name', 'email']) {
      const input = page.doc.querySelector(`#${id}`)!;
      expect(input.getAttribute('aria-invalid')).toBe('true');
      expect(input.getAttribute('aria-describedby')).toContain(`${id}-error`);
    }
    expect(autofocused(page)).toEqual(['family_name']);
  });

  it('names the limit in "too long" errors, in English and French', async () => {
    const long = 'é'.repeat(101);
    const en = await register(h, h.browser(), { given_name: long, email: 'too-long@example.com', password: 'amber kettle 38 meadow' });
    expect(en.doc.querySelector('#given_name-error')!.text).toBe('This is too long: use at most 100 characters.');
    const fr = await register(h, h.browser({ 'accept-language': 'fr' }), { given_name: long, email: 'too-long@example.com', password: 'amber kettle 38 meadow' });
    expect(fr.doc.querySelector('#given_name-error')!.text).toBe('C’est trop long : 100 caractères au maximum.');
  });

  it('counts the wait in minutes as people say it, and leads back to the sign-in, when there were too many attempts', async () => {
    for (const [language, minute, back] of [
      ['en', (n: number) => (n === 1 ? '1 minute' : `${n} minutes`), 'Back to sign in'],
      ['fr', (n: number) => (n === 1 ? '1 minute' : `${n} minutes`), 'Retour à la connexion'],
    ] as const) {
      const browser = h.browser({ 'accept-language': language });
      let page: Page | undefined;
      for (let attempt = 0; attempt < 10 && page?.status !== 429; attempt++) {
        page = await register(h, browser, { email: `too-many-${language}-${attempt}@example.com`, password: 'amber kettle 39 meadow' });
      }
      expect(page!.status).toBe(429);
      const minutes = Math.ceil(Number(page!.headers.get('retry-after')) / 60);
      expect(page!.doc.querySelector('main p')!.text).toContain(` ${minute(minutes)} `);
      expect(page!.body).not.toContain('(s)');
      const [link] = links(page!);
      expect(link!.text).toBe(back);
      expect(link!.href).toMatch(/^\/interaction\/[\w-]+$/);
      expect(heading(await click(browser, page!, 'main a'))).toBe(language === 'en' ? 'Sign in' : 'Connexion');
    }
  });

  it('leads back to the form when there were too many reset requests outside a sign-in', async () => {
    const browser = h.browser({ 'accept-language': 'fr' });
    let page: Page | undefined;
    for (let attempt = 0; attempt < 5 && page?.status !== 429; attempt++) {
      page = await browser.submit(await browser.open(`${h.f.issuer}/account/forgot`), { email: 'many-resets@example.com' });
    }
    expect(page!.status).toBe(429);
    expect(links(page!)).toEqual([{ text: 'Réessayer', href: '/account/forgot' }]);
  });

  it('titles a missing page "Page not found" and offers the start page', async () => {
    for (const [language, title] of [['en', 'Page not found'], ['fr', 'Page introuvable']]) {
      const page = await h.browser({ 'accept-language': language! }).open(`${h.f.issuer}/no/such/page`);
      expect(page.status).toBe(404);
      expect(heading(page)).toBe(title);
      expect(page.doc.querySelector('title')!.text.startsWith(title!)).toBe(true);
      expect(links(page).map((link) => link.href)).toEqual(['/']);
    }
  });

  it('offers the way back to the app when a sign-in is continued in another browser', async () => {
    const browser = h.browser();
    const email = 'other-browser@example.com';
    await register(h, browser, { email, password: 'amber kettle 40 meadow' });
    // The message is read on a phone: the sign-in it came from lives in the computer's browser.
    const phone = h.browser();
    const done = await follow(phone, (await h.latest(email, 'verify-email')).link!);
    const expired = await click(phone, done, 'a.button');
    expect(heading(expired)).toBe('This sign-in has expired');
    expect(links(expired)).toEqual([{ text: 'Back to Intranet', href: `${RP}/` }]);
    // The computer's browser goes on with the address filled in.
    const login = await click(browser, done, 'a.button');
    expect(emailField(login)?.getAttribute('value')).toBe(email);
  });

  it('offers the way back to the app when the sign-in’s return address is opened in another browser', async () => {
    const { page } = await openSignIn(h, h.browser());
    const uid = new URL(page.url).pathname.split('/')[2];
    const expired = await h.browser({ 'accept-language': 'fr' }).open(`${h.f.issuer}/auth/${uid}`);
    expect(expired.status).toBe(400);
    expect(heading(expired)).toBe('Cette connexion a expiré');
    expect(links(expired)).toEqual([{ text: 'Retour à Intranet', href: `${RP}/` }]);
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
