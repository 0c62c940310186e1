// Creating an account from the sign-in page (issue 3), as the person sees it and as the owner of
// an address someone else typed sees it: the same answer either way, a mail to the right person,
// the password policy explained next to the field, and no way to crash the form with its size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../support/fixture.ts';
import type { Browser, Page } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { click, comparableHeaders, expectNoSecretsInLogs, heading, masked, openSignIn, register, signInForTokens, startHarness, trySignIn } from './harness.ts';
import type { Harness } from './harness.ts';

const NAMES = { given_name: 'Zoé', family_name: 'Durand' };

/** A password of exactly `length` characters made of words and digits: long, and on no list. */
function longPassword(length: number): string {
  const words = ['ochre', 'meadow', 'kettle', 'violin', 'saffron', 'glacier', 'pebble', 'thistle'];
  let password = '';
  for (let i = 0; password.length < length; i++) password += `${words[i % words.length]}${i % 10} `;
  return password.slice(0, length - 1) + 'Q';
}

describe.each(STORES)('registration on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    // Behind a proxy, so that each browser counts as its own address for the per-address limits.
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  async function registerPage(browser: Browser): Promise<Page> {
    const { page } = await openSignIn(h, browser);
    return click(browser, page, 'a[href$="/register"]');
  }

  it('answers a new address with "check your inbox" and mails it a confirmation link under the issuer', async () => {
    const page = await register(h, h.browser(), { email: 'new.person@example.com', password: 'lantern river cobalt' });
    expect(page.status).toBe(200);
    expect(heading(page)).toBe('Check your inbox');
    expect(page.doc.querySelector('[role="status"]')?.text).toContain('new.person@example.com');

    const mail = await h.latest('new.person@example.com', 'verify-email');
    expect(mail.subject).toBe('Confirm your e-mail address for Sésame');
    expect(mail.link?.startsWith(`${h.f.issuer}/account/verify?token=`)).toBe(true);
    for (const link of mail.links) expect(link.startsWith(`${h.f.issuer}/`), link).toBe(true);
    expect(mail.text).toContain('Hello Zoé,');
  });

  it('answers an address that already has an account, in any letter case, exactly like a new one, and tells the owner instead', async () => {
    const alice = await h.prisma.user.findUniqueOrThrow({ where: { id: h.f.alice.id } });
    const browser = h.browser();
    // The same sign-in and browser for both, so only the typed address differs (same length).
    const taken = await register(h, browser, { email: 'aLICE@eXAMPLE.com', password: 'someone else entirely' });
    const fresh = await register(h, browser, { email: 'zLICE@eXAMPLE.com', password: 'someone else entirely' });

    expect(taken.status).toBe(fresh.status);
    expect(comparableHeaders(taken)).toEqual(comparableHeaders(fresh));
    expect(masked(taken, 'aLICE@eXAMPLE.com')).toBe(masked(fresh, 'zLICE@eXAMPLE.com'));
    expect(heading(taken)).toBe('Check your inbox');

    // Nothing about the existing account changed: same row, same password.
    expect(await h.prisma.user.findUniqueOrThrow({ where: { id: h.f.alice.id } })).toEqual(alice);
    expect(await trySignIn(h, h.browser(), 'alice@example.com', 'someone else entirely')).toBe('wrong');
    expect((await signInForTokens(h, h.browser(), 'alice@example.com', PASSWORD)).claims()?.sub).toBe(h.f.alice.id);

    const owner = await h.inbox('Alice@Example.com');
    expect(owner.map((mail) => mail.kind)).toEqual(['already-registered']);
    expect(owner[0]!.to).toBe('Alice@Example.com');
    expect(owner[0]!.subject).toBe('You already have a Sésame account');
    expect(owner[0]!.link).toBeUndefined();
    for (const link of owner[0]!.links) expect(link.startsWith(`${h.f.issuer}/`), link).toBe(true);
    expect((await h.inbox('zLICE@eXAMPLE.com')).map((mail) => mail.kind)).toEqual(['verify-email']);
  });

  it('shows each problem next to its field, linked by aria-describedby, and keeps what was typed except the password', async () => {
    const browser = h.browser();
    const empty = await browser.submit(await registerPage(browser), { given_name: '', family_name: '', email: '', password: '' });
    expect(empty.status).toBe(400);
    expect(empty.doc.querySelector('[role="alert"] p')?.text).toBe('Please correct these fields:');
    for (const name of ['given_name', 'family_name', 'email', 'password']) {
      expect(empty.doc.querySelector(`#${name}-error`)?.text, name).toBe('This field is required.');
      const input = empty.doc.querySelector(`input#${name}`)!;
      expect(input.getAttribute('aria-describedby')?.split(' '), name).toContain(`${name}-error`);
      expect(input.getAttribute('aria-invalid'), name).toBe('true');
    }

    const badEmail = await browser.submit(empty, { ...NAMES, email: 'not-an-address', password: 'lantern river cobalt' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.doc.querySelector('#email-error')?.text).toBe('Enter an e-mail address like name@example.com.');
    expect(badEmail.doc.querySelector('#given_name-error')).toBeNull();
    expect(badEmail.doc.querySelector('input#given_name')?.getAttribute('value')).toBe('Zoé');
    expect(badEmail.doc.querySelector('input#email')?.getAttribute('value')).toBe('not-an-address');
    expect(badEmail.doc.querySelector('input#password')?.getAttribute('value')).toBeUndefined();
    expect(badEmail.body).not.toContain('lantern river cobalt');
  });

  it.each([
    ['under 12 characters', 'violet moth', 'Use at least 12 characters.'],
    ['a common password', 'password1234', 'This password is too common: it appears in lists of leaked passwords. Choose another one.'],
    ['a common password with digits and symbols added', 'iloveyou2024!!', 'This password is too common: it appears in lists of leaked passwords. Choose another one.'],
    ['the e-mail address in it', 'Rosalind.Franklin-2024', 'Do not use your name or e-mail address in your password.'],
  ])('refuses a password with %s, saying why next to the field, and creates nothing', async (_case, password, reason) => {
    const email = `rosalind.franklin@example.com`;
    const browser = h.browser();
    const page = await register(h, browser, { email, password });
    expect(page.status).toBe(400);
    expect(page.doc.querySelector('#password-error')?.text).toBe(reason);
    expect(page.doc.querySelector('input#password')?.getAttribute('aria-describedby')).toBe('password-hint password-error');
    expect(page.doc.querySelector('input#email')?.getAttribute('value')).toBe(email);
    expect(await h.inbox(email)).toEqual([]);
    expect(await trySignIn(h, h.browser(), email, password)).toBe('wrong');
  });

  it('accepts a password of 64 characters and more, and never signs in with a shortened or case-folded version of it', async () => {
    const password = longPassword(100);
    const page = await register(h, h.browser(), { email: 'long.password@example.com', password });
    expect(page.status).toBe(200);
    const browser = h.browser();
    for (const wrong of [password.slice(0, 72), password.slice(0, 64), password.toUpperCase()]) {
      expect(await trySignIn(h, browser, 'long.password@example.com', wrong)).toBe('wrong');
    }
    // The password is right: the sign-in moves on to confirming the address.
    expect(await trySignIn(h, browser, 'long.password@example.com', password)).toBe('Confirm your e-mail address');
  });

  it('accepts a password of 1000 characters and refuses one of 1025, saying why', async () => {
    const thousand = longPassword(1000);
    expect((await register(h, h.browser(), { email: 'thousand@example.com', password: thousand })).status).toBe(200);
    expect(await trySignIn(h, h.browser(), 'thousand@example.com', thousand)).toBe('Confirm your e-mail address');

    const tooLong = longPassword(1025);
    const refused = await register(h, h.browser(), { email: 'too.long@example.com', password: tooLong });
    expect(refused.status).toBe(400);
    expect(refused.doc.querySelector('#password-error')?.text).toBe('Use at most 1024 characters.');
    expect(await h.inbox('too.long@example.com')).toEqual([]);
    expect(await h.prisma.user.count({ where: { emailKey: 'too.long@example.com' } })).toBe(0);
  });

  it('answers a 1 MB form with a clean 4xx page, never a 500, on every self-service form', async () => {
    const browser = h.browser();
    const register = await registerPage(browser);
    const uid = new URL(register.url).pathname.split('/')[2];
    const huge = `email=a%40example.com&password=${'x'.repeat(1024 * 1024)}`;
    for (const path of [`/interaction/${uid}/register`, `/interaction/${uid}/forgot`, `/interaction/${uid}/login`, '/account/forgot', '/account/reset', '/account/verify']) {
      const response = await browser.request(`${h.f.issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.f.issuer },
        body: huge,
      });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
      expect(response.headers.get('content-type'), path).toContain('text/html');
      await response.text();
    }
    // And the sign-in goes on as if nothing happened.
    expect((await browser.open(register.url)).status).toBe(200);
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
