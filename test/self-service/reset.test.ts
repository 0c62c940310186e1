// "Forgot your password?" (issue 3): the request that tells nothing about who has an account,
// the link that works once, for 15 minutes, for one account, the policy on the new password, and
// everything a reset ends — other links, refresh tokens, sessions — as people and apps see it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from '../support/browser.ts';
import { beginSignIn, oidc, redeem } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import {
  click,
  comparableHeaders,
  expectNoSecretsInLogs,
  heading,
  INTRANET_CB,
  masked,
  openSignIn,
  refreshOutcome,
  register,
  signInForTokens,
  startHarness,
  trySignIn,
} from './harness.ts';
import type { Harness } from './harness.ts';

const CHANGED = 'Your password was changed';
const LINK_DEAD = 'This link no longer works';
const FORM = 'Choose a new password';
const TOO_COMMON = 'This password is too common: it appears in lists of leaked passwords. Choose another one.';

describe.each(STORES)('password reset on %s', (kind) => {
  let h: Harness;
  let passwords = 0;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  const newPassword = () => {
    const password = `indigo walrus ${++passwords} harvest`;
    h.keep(password);
    return password;
  };

  /** Asks for a link on the stand-alone "forgot" page (as from an e-mail), returns the answer. */
  async function askForLink(browser: Browser, email: string): Promise<Page> {
    const form = await browser.open(`${h.f.issuer}/account/forgot`);
    return browser.submit(form, { email });
  }

  /** Asks for a link for `email` and returns the one its inbox received. */
  async function linkFor(email: string, browser = h.browser()): Promise<string> {
    expect(heading(await askForLink(browser, email))).toBe('Check your inbox');
    return (await h.latest(email, 'reset-password')).link!;
  }

  /** Opens a reset link and chooses `password` on its form. */
  async function resetWith(link: string, password: string, browser = h.browser()): Promise<Page> {
    const form = await browser.open(link);
    if (form.status !== 200) return form;
    return browser.submit(form, { password });
  }

  it('answers the same for an address with an account and one without, and mails only the owner', async () => {
    const owner = await h.account({ label: 'owner' });
    const unknown = owner.email.replace('owner', 'nobod');
    expect(unknown.length).toBe(owner.email.length);
    const browser = h.browser();
    const known = await askForLink(browser, owner.email);
    const none = await askForLink(browser, unknown);
    expect(known.status).toBe(none.status);
    expect(comparableHeaders(known)).toEqual(comparableHeaders(none));
    expect(masked(known, owner.email)).toBe(masked(none, unknown));
    expect(known.doc.querySelector('[role="status"]')?.text).toBe(`If an account exists for ${owner.email}, we sent it a link to choose a new password.`);
    expect(known.doc.querySelector('main')?.text).toContain('The link works for 15 minutes.');

    expect(await h.inbox(unknown)).toEqual([]);
    const [mail, ...others] = await h.inbox(owner.email);
    expect(others).toEqual([]);
    expect(mail!.kind).toBe('reset-password');
    expect(mail!.subject).toBe('Reset your Sésame password');
    expect(mail!.text).toContain('This link is valid for 15 minutes.');
    expect(mail!.link?.startsWith(`${h.f.issuer}/account/reset?token=`)).toBe(true);
    for (const link of mail!.links) expect(link.startsWith(`${h.f.issuer}/`), link).toBe(true);
  });

  it('lets a link change the password once; used again it no longer works', async () => {
    const account = await h.account();
    const browser = h.browser();
    const form = await browser.open(await linkFor(account.email));
    const done = await browser.submit(form, { password: newPassword() });
    expect(done.status).toBe(200);
    expect(heading(done)).toBe(CHANGED);

    const again = await browser.submit(form, { password: newPassword() });
    expect(again.status).toBe(400);
    expect(heading(again)).toBe(LINK_DEAD);
    expect(again.doc.querySelector('a[href="/account/forgot"]')?.text).toBe('Ask for a new link');
    expect(heading(await browser.open(form.url))).toBe(LINK_DEAD);
  });

  it('keeps a link valid for 15 minutes and no longer', async () => {
    const account = await h.account();
    const link = await linkFor(account.email);
    // Time passes without waiting: each step moves the link's expiry that much into the past.
    const elapse = (minutes: number) =>
      h.prisma.$executeRaw`UPDATE one_time_tokens SET expires_at = expires_at - make_interval(mins => ${minutes}) WHERE user_id = ${account.id} AND purpose = 'reset-password'`;
    await elapse(14);
    const browser = h.browser();
    const form = await browser.open(link);
    expect(heading(form)).toBe(FORM);
    await elapse(1);
    const refused = await browser.submit(form, { password: newPassword() });
    expect(refused.status).toBe(400);
    expect(heading(refused)).toBe(LINK_DEAD);
    expect(await trySignIn(h, h.browser(), account.email, account.password)).toBe('signed in');
  });

  it('cancels a link when a newer one is asked for', async () => {
    const account = await h.account();
    const browser = h.browser();
    const older = await linkFor(account.email, browser);
    const newer = await linkFor(account.email, browser);
    expect(newer).not.toBe(older);
    expect(heading(await resetWith(older, newPassword()))).toBe(LINK_DEAD);
    expect(heading(await resetWith(newer, newPassword()))).toBe(CHANGED);
  });

  it('cancels the account\'s other links when the password changes', async () => {
    // An account still waiting for its address to be confirmed, with that link in its inbox.
    const browser = h.browser();
    const email = 'two-links@example.com';
    const password = newPassword();
    await register(h, browser, { email, password });
    const confirmLink = (await h.latest(email, 'verify-email')).link!;
    const link = await linkFor(email);
    // The reset form open on two devices: the first one to be sent wins.
    const tab1 = h.browser();
    const tab2 = h.browser();
    const form1 = await tab1.open(link);
    const form2 = await tab2.open(link);
    const chosen = newPassword();
    expect(heading(await tab1.submit(form1, { password: chosen }))).toBe(CHANGED);
    expect(heading(await tab2.submit(form2, { password: newPassword() }))).toBe(LINK_DEAD);
    expect(heading(await browser.open(confirmLink))).toBe(LINK_DEAD);
    // The reset proved the inbox, so the address counts as confirmed.
    expect(await trySignIn(h, h.browser(), email, chosen)).toBe('signed in');
  });

  it('never lets one account\'s link change another account\'s password', async () => {
    const a = await h.account({ label: 'anna' });
    const b = await h.account({ label: 'bruno' });
    const bTokens = await signInForTokens(h, h.browser(), b.email, b.password);
    const link = await linkFor(a.email);

    // Sent from B's own browser, naming B every way a form could.
    const browser = h.browser();
    const form = await browser.open(link);
    const chosen = newPassword();
    expect(heading(await browser.submit(form, { password: chosen, email: b.email, user: b.id, sub: b.id }))).toBe(CHANGED);
    expect(await trySignIn(h, h.browser(), b.email, b.password)).toBe('signed in');
    expect(await trySignIn(h, h.browser(), b.email, chosen)).toBe('wrong');
    expect(await refreshOutcome(h.intranet, bTokens.refresh_token!)).toBe('ok');
    expect(await trySignIn(h, h.browser(), a.email, chosen)).toBe('signed in');

    // A link proves the address it was sent to: once the account's address changes, it is void.
    const c = await h.account({ label: 'chloe' });
    const cLink = await linkFor(c.email);
    await h.prisma.user.update({ where: { id: c.id }, data: { email: `moved-${c.email}`, emailKey: `moved-${c.email}` } });
    expect(heading(await resetWith(cLink, newPassword()))).toBe(LINK_DEAD);
    expect(await trySignIn(h, h.browser(), `moved-${c.email}`, c.password)).toBe('signed in');
  });

  it('holds the new password to the policy, says why next to the field, and keeps the link usable', async () => {
    const account = await h.account({ label: 'policy' });
    const browser = h.browser();
    let page = await browser.open(await linkFor(account.email));
    for (const [password, reason] of [
      ['', 'This field is required.'],
      ['too short', 'Use at least 12 characters.'],
      ['password1234', TOO_COMMON],
      ['iloveyou2024!!', TOO_COMMON],
      [`${account.email} forever`, 'Do not use your name or e-mail address in your password.'],
      ['ochre meadow kettle '.repeat(52).slice(0, 1025), 'Use at most 1024 characters.'],
    ] as const) {
      h.keep(password);
      page = await browser.submit(page, { password });
      expect(page.status, password).toBe(400);
      expect(heading(page), password).toBe(FORM);
      expect(page.doc.querySelector('#password-error')?.text, password).toBe(reason);
      expect(page.doc.querySelector('input#password')?.getAttribute('aria-describedby'), password).toBe('password-hint password-error');
    }
    const chosen = newPassword();
    expect(heading(await browser.submit(page, { password: chosen }))).toBe(CHANGED);
    expect(await trySignIn(h, h.browser(), account.email, chosen)).toBe('signed in');
  });

  it('after a reset: the old password fails, the new one works, every refresh token and session ends, and the owner is told', async () => {
    const account = await h.account({ label: 'everywhere' });
    const laptop = h.browser();
    const phone = h.browser();
    const onLaptop = await signInForTokens(h, laptop, account.email, account.password);
    const onPhone = await signInForTokens(h, phone, account.email, account.password);
    // Before: the laptop's session signs in silently.
    const silent = async () => {
      const flow = await beginSignIn(h.intranet, INTRANET_CB, { prompt: 'none' });
      return new URL((await laptop.open(flow.url)).stoppedAt!).searchParams;
    };
    expect((await silent()).get('code')).toBeTruthy();

    const chosen = newPassword();
    const done = await resetWith(await linkFor(account.email), chosen);
    expect(heading(done)).toBe(CHANGED);
    expect(done.body).toContain('You are now signed out everywhere.');
    // Asked outside any sign-in: nothing to continue.
    expect(done.doc.querySelector('a.button')).toBeNull();

    expect(await trySignIn(h, h.browser(), account.email, account.password)).toBe('wrong');
    expect(await trySignIn(h, h.browser(), account.email, chosen)).toBe('signed in');
    expect(await refreshOutcome(h.intranet, onLaptop.refresh_token!)).toBe('invalid_grant');
    expect(await refreshOutcome(h.intranet, onPhone.refresh_token!)).toBe('invalid_grant');
    await expect(oidc.fetchUserInfo(h.intranet, onPhone.access_token, oidc.skipSubjectCheck)).rejects.toThrow();
    expect((await silent()).get('error')).toBe('login_required');

    const told = await h.latest(account.email, 'password-changed');
    expect(told.subject).toBe('Your Sésame password was changed');
    expect(told.link).toBeUndefined();
    for (const link of told.links) expect(link.startsWith(`${h.f.issuer}/`), link).toBe(true);
  });

  it('leads back, with "Continue signing in", to the sign-in that was in progress', async () => {
    const account = await h.account({ label: 'midway' });
    const browser = h.browser();
    const { flow, page: login } = await openSignIn(h, browser);
    const forgot = await click(browser, login, 'a[href*="/forgot"]');
    const inbox = await browser.submit(forgot, { email: account.email });
    expect(heading(inbox)).toBe('Check your inbox');

    const chosen = newPassword();
    const done = await resetWith((await h.latest(account.email, 'reset-password')).link!, chosen, browser);
    expect(done.doc.querySelector('a.button')?.text).toBe('Continue signing in');
    const back = await click(browser, done, 'a.button');
    expect(back.url).toBe(login.url);
    expect(heading(back)).toBe('Sign in');
    const callback = await browser.submit(back, { email: account.email, password: chosen });
    const tokens = await redeem(h.intranet, flow, callback.stoppedAt!);
    h.keep(tokens.access_token, tokens.refresh_token, tokens.id_token);
    expect(tokens.claims()?.sub).toBe(account.id);
  });

  it('sends no path in any Referer from the link pages (strict-origin), loads nothing from elsewhere, and never puts the token in a link', async () => {
    const account = await h.account({ label: 'referrer' });
    const browser = h.browser();
    const link = await linkFor(account.email);
    const token = new URL(link).searchParams.get('token')!;
    const form = await browser.open(link);
    const refused = await browser.submit(form, { password: 'password1234' });
    const done = await browser.submit(refused, { password: newPassword() });
    const person = await h.account({ verified: false, label: 'referrer-verify' });
    await trySignIn(h, h.browser(), person.email, person.password);
    const confirmLink = (await h.latest(person.email, 'verify-email')).link!;
    const confirmForm = await browser.open(confirmLink);
    const confirmed = await browser.submit(confirmForm, {});

    for (const [name, page, secret] of [
      ['reset form', form, token],
      ['reset form with a refused password', refused, token],
      ['reset done', done, token],
      ['verify form', confirmForm, new URL(confirmLink).searchParams.get('token')!],
      ['verify done', confirmed, new URL(confirmLink).searchParams.get('token')!],
    ] as const) {
      expect(page.headers.get('referrer-policy'), name).toBe('strict-origin');
      for (const element of page.doc.querySelectorAll('[href], [src], [action]')) {
        const target = element.getAttribute('href') ?? element.getAttribute('src') ?? element.getAttribute('action')!;
        expect(new URL(target, h.f.issuer).origin, `${name}: ${target}`).toBe(h.f.issuer);
        expect(target, name).not.toContain(secret);
      }
      // The token travels only in the form's body, never back in a link or the page's text.
      const fields = page.doc.querySelectorAll('input[name="token"]').map((input) => input.getAttribute('value'));
      expect(page.body.split(secret).length - 1, name).toBe(fields.filter((value) => value === secret).length);
      for (const form of page.doc.querySelectorAll('form')) expect(form.getAttribute('method'), name).toBe('post');
    }
    expect(form.doc.querySelector('form')?.getAttribute('action')).toBe('/account/reset');
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
