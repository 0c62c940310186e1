// What the account page's suites share: signing in to /account the way a person does (from the
// start page, through Sésame's own /auth), its forms submitted as a browser would, and the mail
// the changes send.
import { expect } from 'vitest';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { click, heading } from '../support/pages.ts';
import type { Federation } from '../federation/harness.ts';

export { heading };

/**
 * From `/` to the account page: signs in with e-mail and password on Sésame's login page (a
 * browser already signed in to Sésame goes straight through, as with any app).
 */
export async function signInToAccount(h: Federation, browser: Browser, email: string, password: string): Promise<Page> {
  const home = await browser.open(`${h.f.issuer}/`);
  let page = await click(browser, home, 'a[href="/account"]');
  if (heading(page) === 'Sign in') page = await browser.submit(page, { email, password });
  expect(page.url, page.body.slice(0, 1500)).toMatch(/\/account(\?.*)?$/);
  expect(heading(page)).toBe('Your account');
  return page;
}

/** Opens an account page and submits the form whose action ends with `action`. */
export async function submitOn(browser: Browser, url: string, action: string, fields: Record<string, string> = {}): Promise<Page> {
  const page = await browser.open(url);
  const selector = `form[action$="${action}"]`;
  expect(page.doc.querySelector(selector), `no form ${action} on ${page.url}:\n${page.body.slice(0, 2000)}`).toBeTruthy();
  return browser.submit(page, fields, { selector });
}

export const notice = (page: Page) => page.doc.querySelector('.notice[role="status"]')?.text.trim();
export const alert = (page: Page) => page.doc.querySelector('[role="alert"]')?.text.trim();
export const fieldError = (page: Page, name: string) => page.doc.querySelector(`#${name}-error`)?.text.trim();

/** A browser with the User-Agent of Firefox on Windows, so the sessions page has something to read. */
export const firefoxOnWindows = { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0' };
export const safariOnMac = { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15' };
