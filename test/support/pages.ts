// Small readings of a page and of a relying app's refresh, shared by the suites.
import type { Browser, Page } from './browser.ts';
import { oidc } from './rp.ts';

export const heading = (page: Page) => page.doc.querySelector('h1')?.text.trim();

/** The page's CSRF token (the hidden field of its forms). */
export const csrfOf = (page: Page) => page.doc.querySelector('input[name="csrf"]')?.getAttribute('value') ?? '';

/** Follows the link `selector` on `page`, as a click would. */
export function click(browser: Browser, page: Page, selector: string): Promise<Page> {
  const href = page.doc.querySelector(selector)?.getAttribute('href');
  if (!href) throw new Error(`no link ${selector} on ${page.url}:\n${page.body}`);
  return browser.open(new URL(href, page.url).href);
}

/**
 * The page with what legitimately differs between two requests replaced: CSRF tokens,
 * interaction ids, the request id (an error page's reference), the passkey form's challenge (new
 * on every page), and the values given (the address typed, echoed back).
 */
export function masked(page: Page, ...values: string[]): string {
  const requestId = page.headers.get('x-request-id');
  let body = (requestId ? page.body.replaceAll(requestId, '…') : page.body)
    .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="…"')
    .replace(/\/interaction\/[A-Za-z0-9_-]+/g, '/interaction/…')
    .replace(/(challenge&quot;:&quot;)[\w-]+/g, '$1…');
  for (const value of values) body = body.replaceAll(value, '…').replaceAll(encodeURIComponent(value), '…');
  return body;
}

/** The relying app's view of a refresh: "ok", or the OAuth error it got. */
export const refreshOutcome = (config: oidc.Configuration, refreshToken: string) =>
  oidc.refreshTokenGrant(config, refreshToken).then(
    () => 'ok',
    (error: { error?: string }) => error.error ?? 'failed',
  );
